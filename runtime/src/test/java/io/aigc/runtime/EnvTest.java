package io.aigc.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvTest {
  private final Env env = Env.of(Map.of("PORT", "8081", "RATIO", "0.5", "ON", "yes", "WAIT", "30s", "BLANK", " ",
      "BAD", "eighty"));

  @Test
  void readsTypedValuesWithDefaults() {
    assertThat(env.integer("PORT", 1)).isEqualTo(8081);
    assertThat(env.integer("MISSING", 7)).isEqualTo(7);
    assertThat(env.decimal("RATIO", 1)).isEqualTo(0.5);
    assertThat(env.bool("ON", false)).isTrue();
    assertThat(env.duration("WAIT", Duration.ZERO)).isEqualTo(Duration.ofSeconds(30));
    assertThat(env.string("BLANK", "default")).isEqualTo("default");
  }

  @Test
  void parsesEveryDurationUnit() {
    Env d = Env.of(Map.of("A", "250ms", "B", "5m", "C", "1h", "D", "40", "E", "7d"));
    assertThat(d.duration("A", null)).isEqualTo(Duration.ofMillis(250));
    assertThat(d.duration("B", null)).isEqualTo(Duration.ofMinutes(5));
    assertThat(d.duration("C", null)).isEqualTo(Duration.ofHours(1));
    assertThat(d.duration("D", null)).isEqualTo(Duration.ofMillis(40));
    assertThat(d.duration("E", null)).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void namesTheVariableThatDoesNotParse() {
    assertThatThrownBy(() -> env.integer("BAD", 1)).hasMessage("BAD must be an integer, got 'eighty'");
    assertThatThrownBy(() -> env.bool("BAD", true)).hasMessage("BAD must be true or false, got 'eighty'");
    assertThatThrownBy(() -> env.duration("BAD", Duration.ZERO)).hasMessageStartingWith("BAD must be a duration");
  }

  @Test
  void overridesLeaveTheOriginalUnchanged() {
    Env changed = env.with(Map.of("PORT", "9000"));
    assertThat(changed.integer("PORT", 1)).isEqualTo(9000);
    assertThat(env.integer("PORT", 1)).isEqualTo(8081);
  }
}
