package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The backlog's decision and its Retry-After, from measurements (the broker side is in {@link BacklogHttpTest}). */
class BacklogTest {
  private static final Duration INTERVAL = Duration.ofSeconds(1);

  @Test
  void atOrUnderTheBoundNothingIsRefused() {
    assertThat(Backlog.next(0, 100, Double.NaN, INTERVAL)).isEqualTo(new Backlog.State(0, false, 0));
    assertThat(Backlog.next(100, 100, 5, INTERVAL)).isEqualTo(new Backlog.State(100, false, 0));
  }

  @Test
  void retryAfterIsTheTimeToDrainBackUnderTheBoundPlusOneCheck() {
    // 200 over the bound at 50 per second: 4 s, plus the check that notices.
    assertThat(Backlog.next(300, 100, 50, INTERVAL)).isEqualTo(new Backlog.State(300, true, 5));
    // Draining fast: still at least a second.
    assertThat(Backlog.next(101, 100, 10_000, Duration.ofMillis(100)).retryAfterSeconds()).isEqualTo(1);
    // Draining slowly: capped, so clients come back to look.
    assertThat(Backlog.next(100_000, 100, 1, INTERVAL).retryAfterSeconds())
        .isEqualTo(Backlog.MAX_RETRY_AFTER_SECONDS);
  }

  @Test
  void notDrainingAtAllOrNotKnownYetGivesTheLongestRetryAfter() {
    assertThat(Backlog.next(101, 100, 0, INTERVAL).retryAfterSeconds()).isEqualTo(Backlog.MAX_RETRY_AFTER_SECONDS);
    assertThat(Backlog.next(101, 100, Double.NaN, INTERVAL).retryAfterSeconds())
        .isEqualTo(Backlog.MAX_RETRY_AFTER_SECONDS);
  }

  @Test
  void drainedCountsWhatWorkersTookAndWhatTheTokenizerAnsweredItself() {
    Backlog.Measurement before = new Backlog.Measurement(50, 100, 80, 60, 0, 30, Map.of("pool", 20L));
    // The tokenizer consumed 30 and forwarded 20 (10 failed there); the workers took 15.
    Backlog.Measurement after = new Backlog.Measurement(0, 130, 100, 75, 1, 0, Map.of("pool", 0L));
    assertThat(after.drainedSince(before)).isEqualTo(25);
    // Offsets that go back (a group reset) are no negative drain.
    assertThat(before.drainedSince(after)).isZero();
  }
}
