package io.aigc.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimesTest {
  static final Instant NOW = Instant.parse("2026-12-01T03:00:00Z");

  @Test
  void nowAndTimesRelativeToIt() {
    assertThat(Times.parse("now", NOW)).isEqualTo(NOW);
    assertThat(Times.parse("-1h", NOW)).isEqualTo(NOW.minus(Duration.ofHours(1)));
    assertThat(Times.parse("-30m", NOW)).isEqualTo(NOW.minus(Duration.ofMinutes(30)));
    assertThat(Times.parse("-2d", NOW)).isEqualTo(NOW.minus(Duration.ofDays(2)));
    assertThat(Times.parse("-1h30m", NOW)).isEqualTo(NOW.minus(Duration.ofMinutes(90)));
    assertThat(Times.parse("-90s", NOW)).isEqualTo(NOW.minusSeconds(90));
  }

  @Test
  void isoTimesWithAnOffsetWithoutOneInUtcOrADateAtItsMidnight() {
    assertThat(Times.parse("2026-11-30T10:15:00Z", NOW)).isEqualTo(Instant.parse("2026-11-30T10:15:00Z"));
    assertThat(Times.parse("2026-11-30T11:15:00+01:00", NOW)).isEqualTo(Instant.parse("2026-11-30T10:15:00Z"));
    assertThat(Times.parse("2026-11-30T10:15", NOW)).isEqualTo(Instant.parse("2026-11-30T10:15:00Z"));
    assertThat(Times.parse("2026-11-30", NOW)).isEqualTo(Instant.parse("2026-11-30T00:00:00Z"));
  }

  @Test
  void anythingElseIsRefusedWithTheFormsItTakes() {
    assertThatThrownBy(() -> Times.parse("yesterday", NOW)).hasMessageContaining("'yesterday' is not a time")
        .hasMessageContaining("-1h");
    assertThatThrownBy(() -> Times.parse("-1w", NOW)).isInstanceOf(IllegalArgumentException.class);
  }
}
