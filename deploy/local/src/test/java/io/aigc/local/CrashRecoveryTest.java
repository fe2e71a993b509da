package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every accepted job gets exactly one completion, whatever crashes: the broker and each service run as their own
 * OS processes under the supervisor, a steady load of jobs flows, and each process is killed with SIGKILL in turn,
 * the inference worker in the middle of a batch and the broker last. Clients retry with their Idempotency-Key, as
 * real clients do. Afterwards a checker reads the completions topic: each accepted job id appears exactly once,
 * and no id appears twice.
 */
class CrashRecoveryTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Pattern RUNNING = Pattern.compile("(?m)^aigc_num_requests_running\\{model=\"[^\"]*\"} (\\S+)$");

  @RegisterExtension
  static final PerClass<ProcessCluster> cluster = TestProcessCluster.perClass("crash-recovery",
      (home, defaults) -> defaults.withEnv(Map.of("AIGC_TOPIC_PARTITIONS", "4", "AIGC_MAX_BATCH", "16")));

  /**
   * Each service runs on what its image holds (its own runtime dependencies) and logs through its backend: a
   * dependency a test scope drops from a service's lib/ would show here as a service that cannot start, or as a log
   * of errors only.
   */
  @Test
  void eachServiceStartsOnItsOwnRuntimeClasspathAndLogsItsStart() throws Exception {
    for (String service : ProcessCluster.SERVICES) {
      String log = Files.readString(cluster.get().settings().home().resolve("logs/" + service + ".log"));
      assertThat(log).as("%s's log", service).contains(" INFO ").doesNotContain("could not find a logging provider");
    }
  }

  @Test
  void everyAcceptedJobCompletesExactlyOnceThroughCrashes() throws Exception {
    Load load = new Load(cluster.get().settings().httpPort());
    load.start(4);
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> load.accepted.size() >= 20);

      // The worker, while it is generating: its batch dies with it, and nothing is committed for those records.
      await().atMost(Duration.ofSeconds(30)).until(() -> workerRunning() > 0);
      crashAndRecover("inference-worker");
      crashAndRecover("tokenizer-service");
      crashAndRecover("postprocessor");
      // The gateway, with requests in flight: their clients see the connection drop and retry.
      crashAndRecover("gateway");
      // The broker, under load: every client and service reconnects.
      crashAndRecover(ProcessCluster.BROKER);

      int before = load.accepted.size();
      await().atMost(Duration.ofSeconds(60)).until(() -> load.accepted.size() >= before + 20);
    } finally {
      load.stop();
    }

    Set<String> accepted = Set.copyOf(load.accepted);
    TestProcessCluster.assertEachCompletedOnce(cluster.get(), accepted);
    assertThat(accepted.size()).isGreaterThan(60);
    assertThat(load.retries.get()).as("clients had to retry during the crashes").isPositive();
  }

  private static void crashAndRecover(String process) throws Exception {
    long pid = cluster.get().pid(process).orElseThrow();
    cluster.get().kill(process, true);
    await().atMost(Duration.ofSeconds(60)).until(() -> cluster.get().pid(process).orElse(pid) != pid);
    cluster.get().awaitReady(Duration.ofMinutes(2));
  }

  private static double workerRunning() {
    try {
      String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + cluster.get().settings().metricsPorts().get("inference-worker") + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = RUNNING.matcher(body);
      return m.find() ? Double.parseDouble(m.group(1)) : 0;
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  /** Clients submitting jobs one after another, each retried with its Idempotency-Key until accepted. */
  static final class Load {
    final Set<String> accepted = ConcurrentHashMap.newKeySet();
    final AtomicInteger retries = new AtomicInteger();
    private final int port;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> clients = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    Load(int port) {
      this.port = port;
    }

    void start(int clientCount) {
      for (int c = 0; c < clientCount; c++) {
        int client = c;
        Thread t = new Thread(() -> {
          for (int job = 0; running.get(); job++) {
            submit("client-" + client + "-job-" + job);
          }
        }, "load-" + c);
        t.start();
        clients.add(t);
      }
    }

    private void submit(String idempotencyKey) {
      String body = "{\"prompt\": \"You may make and give copies\", \"max_tokens\": 40, \"temperature\": 0.7,"
          + " \"seed\": 1, \"ignore_eos\": true}";
      while (true) {
        try {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/jobs"))
              .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
              .header("Idempotency-Key", idempotencyKey)
              .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 202) {
            JsonNode job = JSON.readTree(r.body());
            accepted.add(job.get("id").asText());
            return;
          }
          // 503 (the broker is away) or 429: not accepted; try again with the same key.
        } catch (IOException e) {
          // The gateway died or is restarting: not accepted, as far as this client knows.
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        retries.incrementAndGet();
        if (!running.get()) {
          return; // giving up on a job this client was never told was accepted
        }
        try {
          Thread.sleep(250); // a client's retry back-off
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : clients) {
        t.join(60_000);
      }
    }
  }
}
