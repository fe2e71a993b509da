package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.model.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One model's worker pool scaled out and in while jobs flow, every process real (the broker, the four services and
 * each worker their own JVMs): a worker added takes partitions and serves them; a worker stopped with SIGTERM drains
 * and leaves the group at once, so its partitions move without waiting out the session timeout; a worker killed
 * with SIGKILL loses nothing (its partitions move once its session expires); every accepted job ends with exactly one
 * completion. The session timeout is set long here so that "at once" and "after the session timeout" differ.
 */
class ScaleOutTest {
  static final String GROUP = "aigc-inference-worker." + TestModels.TINY_LLAMA;
  static final Duration SESSION_TIMEOUT = Duration.ofSeconds(20);
  static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10);
  static final int PARTITIONS = 4;

  static final String JOB = "{\"prompt\": \"You may make and give copies\", \"max_tokens\": 24, \"temperature\": 0,"
      + " \"ignore_eos\": true}";

  @RegisterExtension
  static final PerClass<ProcessCluster> cluster = TestProcessCluster.perClass("scale-out", (home, defaults) -> {
    Path clientConfig = Files.writeString(home.resolve("client.properties"),
        "session.timeout.ms=" + SESSION_TIMEOUT.toMillis() + "\n");
    return defaults.withRestart(false).withEnv(Map.of(
        "AIGC_RATE_LIMIT", "0",
        "AIGC_TOPIC_PARTITIONS", String.valueOf(PARTITIONS),
        "AIGC_WORKER_ID", "worker-1", // the first worker's; those added name themselves
        "AIGC_DRAIN_TIMEOUT", DRAIN_TIMEOUT.toSeconds() + "s",
        "KAFKA_CLIENT_CONFIG_FILE", clientConfig.toString()));
  });

  @Test
  void workersAddedStoppedAndKilledUnderLoadLoseNothingAndServeEachJobOnce() throws Exception {
    String bootstrap = cluster.get().settings().bootstrapServers();
    try (OpenLoad load = OpenLoad.start(cluster.get().settings().httpPort(), JOB, 8)) {
      // One worker: it holds every partition.
      await().atMost(Duration.ofSeconds(60)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-1")) && p.get("worker-1").size() == PARTITIONS);

      // A second worker, added while jobs flow, takes partitions and serves jobs from them.
      cluster.get().startWorker("worker-2", Map.of("AIGC_WORKER_ID", "worker-2"));
      await().atMost(Duration.ofMinutes(2)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-1", "worker-2")) && p.values().stream().noneMatch(List::isEmpty));
      await().atMost(Duration.ofMinutes(1)).until(
          () -> WorkShare.sequencesByWorker(bootstrap, load.accepted()).getOrDefault("worker-2", 0) > 0);

      // SIGTERM: the first worker drains, commits and leaves the group as it exits.
      cluster.get().kill("inference-worker", false);
      assertThat(cluster.get().awaitExit("inference-worker", DRAIN_TIMEOUT.plusSeconds(30)))
          .as("worker-1 exits within its drain timeout and a margin").isTrue();
      long exited = System.nanoTime();
      assertThat(WorkShare.partitions(bootstrap, GROUP)).as("members right after worker-1 exited")
          .doesNotContainKey("worker-1");
      assertThat(Files.readString(cluster.get().settings().home().resolve("logs/inference-worker.log")))
          .contains("drained:");
      // Its partitions move to the other worker without waiting out its session.
      await().atMost(SESSION_TIMEOUT).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-2")) && p.get("worker-2").size() == PARTITIONS);
      System.out.printf("scale-out: worker-1's partitions reassigned %d ms after it exited (session timeout %d ms)%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - exited), SESSION_TIMEOUT.toMillis());

      // A third worker joins; then the second is killed with SIGKILL: nothing it held is lost.
      cluster.get().startWorker("worker-3", Map.of("AIGC_WORKER_ID", "worker-3"));
      await().atMost(Duration.ofMinutes(2)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-2", "worker-3")) && p.values().stream().noneMatch(List::isEmpty));
      cluster.get().kill("worker-2", true);
      assertThat(cluster.get().awaitExit("worker-2", Duration.ofSeconds(30))).isTrue();
      await().atMost(SESSION_TIMEOUT.plusMinutes(1)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-3")) && p.get("worker-3").size() == PARTITIONS);
      int before = load.accepted().size();
      await().atMost(Duration.ofMinutes(1)).until(() -> load.accepted().size() > before + 8);
      load.stop();

      List<String> accepted = load.accepted();
      assertThat(load.failures()).as("answers other than 202 and 429").isEmpty();
      assertThat(load.refused()).as("jobs refused with 429").isZero();
      TestProcessCluster.assertEachCompletedOnce(cluster.get(), accepted);
      Map<String, Integer> byWorker = WorkShare.sequencesByWorker(bootstrap, accepted);
      System.out.printf("scale-out: %d jobs, generated by %s%n", accepted.size(), byWorker);
      assertThat(byWorker).containsKeys("worker-1", "worker-2", "worker-3");
    }
  }
}
