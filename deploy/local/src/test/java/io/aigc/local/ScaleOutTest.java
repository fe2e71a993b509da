package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.model.testing.TestModels;
import io.aigc.schemas.CompletionStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One model's worker pool scaled out and in while jobs flow, every process real (the broker, the four services and
 * each worker their own JVMs): a worker added takes partitions and serves them; a worker stopped with SIGTERM drains
 * and leaves the group at once, so its partitions move without waiting out the session timeout; a worker killed
 * with SIGKILL loses nothing (its partitions move once its session expires); every accepted job ends with exactly one
 * completion. The session timeout is set long here so that "at once" and "after the session timeout" differ.
 */
class ScaleOutTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String GROUP = "aigc-inference-worker." + TestModels.TINY_LLAMA;
  static final Duration SESSION_TIMEOUT = Duration.ofSeconds(20);
  static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10);
  static final int PARTITIONS = 4;

  static ProcessCluster cluster;
  @TempDir
  static Path home;

  @BeforeAll
  static void start() throws Exception {
    Path clientConfig = home.resolve("client.properties");
    Files.writeString(clientConfig, "session.timeout.ms=" + SESSION_TIMEOUT.toMillis() + "\n");
    ProcessCluster.Settings settings = ProcessCluster.Settings
        .defaults(home, System.getProperty("java.class.path"), ProcessCluster.Layout.PROCESSES)
        .withFreePorts()
        .withRestart(false)
        .withEnv(Map.of(
            "AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(),
            "AIGC_AUTH", "none",
            "AIGC_RATE_LIMIT", "0",
            "AIGC_TOPIC_PARTITIONS", String.valueOf(PARTITIONS),
            "AIGC_WORKER_ID", "worker-1", // the first worker's; those added name themselves
            "AIGC_DRAIN_TIMEOUT", DRAIN_TIMEOUT.toSeconds() + "s",
            "KAFKA_CLIENT_CONFIG_FILE", clientConfig.toString()));
    cluster = ProcessCluster.start(settings);
    cluster.awaitReady(Duration.ofMinutes(3));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void workersAddedStoppedAndKilledUnderLoadLoseNothingAndServeEachJobOnce() throws Exception {
    String bootstrap = cluster.settings().bootstrapServers();
    try (SteadyLoad load = SteadyLoad.start(cluster.settings().httpPort(), 8)) {
      // One worker: it holds every partition.
      await().atMost(Duration.ofSeconds(60)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-1")) && p.get("worker-1").size() == PARTITIONS);

      // A second worker, added while jobs flow, takes partitions and serves jobs from them.
      cluster.startWorker("worker-2", Map.of("AIGC_WORKER_ID", "worker-2"));
      await().atMost(Duration.ofMinutes(2)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-1", "worker-2")) && p.values().stream().noneMatch(List::isEmpty));
      await().atMost(Duration.ofMinutes(1)).until(
          () -> WorkShare.sequencesByWorker(bootstrap, load.accepted()).getOrDefault("worker-2", 0) > 0);

      // SIGTERM: the first worker drains, commits and leaves the group as it exits.
      cluster.kill("inference-worker", false);
      assertThat(cluster.awaitExit("inference-worker", DRAIN_TIMEOUT.plusSeconds(30)))
          .as("worker-1 exits within its drain timeout and a margin").isTrue();
      long exited = System.nanoTime();
      assertThat(WorkShare.partitions(bootstrap, GROUP)).as("members right after worker-1 exited")
          .doesNotContainKey("worker-1");
      assertThat(Files.readString(home.resolve("logs/inference-worker.log"))).contains("drained:");
      // Its partitions move to the other worker without waiting out its session.
      await().atMost(SESSION_TIMEOUT).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-2")) && p.get("worker-2").size() == PARTITIONS);
      System.out.printf("scale-out: worker-1's partitions reassigned %d ms after it exited (session timeout %d ms)%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - exited), SESSION_TIMEOUT.toMillis());

      // A third worker joins; then the second is killed with SIGKILL: nothing it held is lost.
      cluster.startWorker("worker-3", Map.of("AIGC_WORKER_ID", "worker-3"));
      await().atMost(Duration.ofMinutes(2)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-2", "worker-3")) && p.values().stream().noneMatch(List::isEmpty));
      cluster.kill("worker-2", true);
      assertThat(cluster.awaitExit("worker-2", Duration.ofSeconds(30))).isTrue();
      await().atMost(SESSION_TIMEOUT.plusMinutes(1)).until(() -> WorkShare.partitions(bootstrap, GROUP),
          p -> p.keySet().equals(Set.of("worker-3")) && p.get("worker-3").size() == PARTITIONS);
      int before = load.accepted().size();
      await().atMost(Duration.ofMinutes(1)).until(() -> load.accepted().size() > before + 8);
      load.stop();

      List<String> accepted = load.accepted();
      assertThat(load.failures()).as("answers other than 202").isEmpty();
      CompletionsChecker.Report report = CompletionsChecker.check(bootstrap, accepted, Duration.ofMinutes(3));
      assertThat(report.missing()).as("accepted jobs without a completion").isEmpty();
      assertThat(report.doubled()).as("request ids with more than one completion").isEmpty();
      for (String id : accepted) {
        assertThat(report.byId().get(id).get(0).getStatus()).as(id).isEqualTo(CompletionStatus.OK);
      }
      Map<String, Integer> byWorker = WorkShare.sequencesByWorker(bootstrap, accepted);
      System.out.printf("scale-out: %d jobs, generated by %s%n", accepted.size(), byWorker);
      assertThat(byWorker).containsKeys("worker-1", "worker-2", "worker-3");
    }
  }

  /** Jobs offered at a steady rate whatever the answers (an open loop, as upstream systems publish). */
  static final class SteadyLoad implements AutoCloseable {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
    private final int port;
    private final double perSecond;
    private final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final Set<java.util.concurrent.CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean running = true;

    private SteadyLoad(int port, double perSecond) {
      this.port = port;
      this.perSecond = perSecond;
      this.thread = new Thread(this::run, "steady-load");
    }

    static SteadyLoad start(int port, double perSecond) {
      SteadyLoad load = new SteadyLoad(port, perSecond);
      load.thread.start();
      return load;
    }

    private void run() {
      long start = System.nanoTime();
      for (long sent = 0; running; sent++) {
        long wait = start + (long) (sent * 1e9 / perSecond) - System.nanoTime();
        if (wait > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(wait); // pacing an open-loop load
          } catch (InterruptedException e) {
            return;
          }
        }
        var answer = http.sendAsync(job(), HttpResponse.BodyHandlers.ofString()).handle((r, e) -> {
          if (e != null) {
            failures.add(e.toString());
          } else if (r.statusCode() == 202) {
            try {
              accepted.add(JSON.readTree(r.body()).get("id").asText());
            } catch (IOException ex) {
              failures.add("unreadable 202: " + r.body());
            }
          } else {
            failures.add(r.statusCode() + ": " + r.body());
          }
          return null;
        });
        pending.add(answer);
        answer.whenComplete((v, e) -> pending.remove(answer));
      }
    }

    private HttpRequest job() {
      return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/jobs"))
          .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"You may make and give copies\", "
              + "\"max_tokens\": 24, \"temperature\": 0, \"ignore_eos\": true}"))
          .build();
    }

    /** Stops offering jobs and waits for the answers to those offered. */
    void stop() throws Exception {
      running = false;
      thread.join();
      java.util.concurrent.CompletableFuture.allOf(pending.toArray(new java.util.concurrent.CompletableFuture[0]))
          .get(1, TimeUnit.MINUTES);
    }

    List<String> accepted() {
      synchronized (accepted) {
        return List.copyOf(accepted);
      }
    }

    List<String> failures() {
      synchronized (failures) {
        return List.copyOf(failures);
      }
    }

    @Override
    public void close() {
      running = false;
    }
  }
}
