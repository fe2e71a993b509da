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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs offered far faster than the pipeline can generate them, whatever the answers (an open loop, as upstream
 * systems publish): the gateway refuses the excess with 429 and {@code Retry-After} once the backlog passes its
 * bound, fails nothing, and every job it accepted completes exactly once. The broker and each service run as their
 * own processes; the worker is made slow on purpose (two rows, long generations) so the backlog builds within
 * seconds. The 5-minute version with the gateway's memory watched is {@code deploy/bench/run.sh --overload-seconds}.
 */
class OverloadTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int BACKLOG = 40;

  static ProcessCluster cluster;
  @TempDir
  static Path home;

  @BeforeAll
  static void start() throws Exception {
    ProcessCluster.Settings settings = ProcessCluster.Settings
        .defaults(home, System.getProperty("java.class.path"), ProcessCluster.Layout.PROCESSES)
        .withFreePorts()
        .withRestart(false)
        .withEnv(Map.of(
            "AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(),
            "AIGC_AUTH", "none",
            "AIGC_RATE_LIMIT", "0", // the backlog bound is what this test is about, not the per-key rate
            "AIGC_TOPIC_PARTITIONS", "2",
            "AIGC_MAX_BATCH", "2",
            "AIGC_MAX_BACKLOG", String.valueOf(BACKLOG),
            "AIGC_BACKLOG_INTERVAL", "200ms"));
    cluster = ProcessCluster.start(settings);
    cluster.awaitReady(Duration.ofMinutes(2));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void excessJobsAreRefusedWith429AndEveryAcceptedJobCompletesExactlyOnce() throws Exception {
    Set<String> accepted = ConcurrentHashMap.newKeySet();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger refusedWithoutRetryAfter = new AtomicInteger();
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    // A connection is given as long as an answer: on a loaded 2-core CI machine, where this test's own client shares
    // the cores with the broker and four services, 5-second connect timeouts failed this test once (CI, 2026-12-01).
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(30)).build();

    // Several times what two rows of 200 tokens finish, so the backlog fills within seconds; 150/s timed out the
    // test's own connections on a loaded 2-core machine without testing anything more.
    double perSecond = 60;
    long length = TimeUnit.SECONDS.toNanos(20);
    List<CompletableFuture<Void>> answers = new ArrayList<>();
    long start = System.nanoTime();
    for (long sent = 0; System.nanoTime() - start < length; sent++) {
      long wait = start + (long) (sent * 1e9 / perSecond) - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait); // pacing an open-loop load
      }
      answers.add(http.sendAsync(job(), HttpResponse.BodyHandlers.ofString()).handle((r, e) -> {
        if (e != null) {
          failures.add(e.toString());
        } else if (r.statusCode() == 202) {
          try {
            accepted.add(JSON.readTree(r.body()).get("id").asText());
          } catch (IOException ex) {
            failures.add("unreadable 202: " + r.body());
          }
        } else if (r.statusCode() == 429) {
          refused.incrementAndGet();
          if (r.headers().firstValue("Retry-After").isEmpty()) {
            refusedWithoutRetryAfter.incrementAndGet();
          }
        } else {
          failures.add(r.statusCode() + ": " + r.body());
        }
        return null;
      }));
    }
    CompletableFuture.allOf(answers.toArray(new CompletableFuture[0])).get(2, TimeUnit.MINUTES);
    System.out.printf("overload: %d jobs offered, %d accepted, %d refused with 429%n", answers.size(),
        accepted.size(), refused.get());

    assertThat(failures).as("answers other than 202 and 429").isEmpty();
    assertThat(refused.get()).as("jobs refused with 429").isPositive();
    assertThat(refusedWithoutRetryAfter.get()).as("429s without Retry-After").isZero();
    assertThat(accepted).hasSizeGreaterThan(BACKLOG);

    CompletionsChecker.Report report = CompletionsChecker.check(cluster.settings().bootstrapServers(), accepted,
        Duration.ofMinutes(3));
    assertThat(report.missing()).as("accepted jobs without a completion").isEmpty();
    assertThat(report.doubled()).as("request ids with more than one completion").isEmpty();
    for (String id : accepted) {
      assertThat(report.byId().get(id).get(0).getStatus()).as(id).isEqualTo(CompletionStatus.OK);
    }

    // Drained, the pipeline takes jobs again.
    await().atMost(Duration.ofSeconds(30)).until(() -> http.send(job(), HttpResponse.BodyHandlers.discarding())
        .statusCode() == 202);
  }

  private static HttpRequest job() {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cluster.settings().httpPort() + "/v1/jobs"))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"You may make and give copies\", \"max_tokens\": 200,"
            + " \"temperature\": 0, \"ignore_eos\": true}"))
        .build();
  }
}
