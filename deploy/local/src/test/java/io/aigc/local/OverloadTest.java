package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Jobs offered far faster than the pipeline can generate them, whatever the answers (an open loop, as upstream
 * systems publish): the gateway refuses the excess with 429 and {@code Retry-After} once the backlog passes its
 * bound, fails nothing, and every job it accepted completes exactly once. The broker and each service run as their
 * own processes; the worker is made slow on purpose (two rows, long generations) so the backlog builds within
 * seconds. The 5-minute version with the gateway's memory watched is {@code deploy/bench/run.sh --overload-seconds}.
 */
class OverloadTest {
  static final int BACKLOG = 40;
  static final String JOB = "{\"prompt\": \"You may make and give copies\", \"max_tokens\": 200, \"temperature\": 0,"
      + " \"ignore_eos\": true}";

  @RegisterExtension
  static final PerClass<ProcessCluster> cluster = TestProcessCluster.perClass("overload",
      (home, defaults) -> defaults.withRestart(false).withEnv(Map.of(
          "AIGC_RATE_LIMIT", "0", // the backlog bound is what this test is about, not the per-key rate
          "AIGC_TOPIC_PARTITIONS", "2",
          "AIGC_MAX_BATCH", "2",
          "AIGC_MAX_BACKLOG", String.valueOf(BACKLOG),
          "AIGC_BACKLOG_INTERVAL", "200ms")));

  @Test
  void excessJobsAreRefusedWith429AndEveryAcceptedJobCompletesExactlyOnce() throws Exception {
    // Several times what two rows of 200 tokens finish, so the backlog fills within seconds; 150/s timed out the
    // test's own connections on a loaded 2-core machine without testing anything more. Offered for 20 seconds.
    double perSecond = 60;
    try (OpenLoad load = OpenLoad.start(cluster.get().settings().httpPort(), JOB, perSecond)) {
      await().atMost(Duration.ofMinutes(1)).until(() -> load.offered() >= 20 * perSecond);
      load.stop();
      List<String> accepted = load.accepted();
      System.out.printf("overload: %d jobs offered, %d accepted, %d refused with 429%n", load.offered(),
          accepted.size(), load.refused());

      assertThat(load.failures()).as("answers other than 202 and 429").isEmpty();
      assertThat(load.refused()).as("jobs refused with 429").isPositive();
      assertThat(load.refusedWithoutRetryAfter()).as("429s without Retry-After").isZero();
      assertThat(accepted).hasSizeGreaterThan(BACKLOG);
      TestProcessCluster.assertEachCompletedOnce(cluster.get(), accepted);

      // Drained, the pipeline takes jobs again.
      await().atMost(Duration.ofSeconds(30)).until(() -> load.offerOne() == 202);
    }
  }
}
