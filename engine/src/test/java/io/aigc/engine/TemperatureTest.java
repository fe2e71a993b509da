package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TemperatureTest {
  @Test
  void dividesEveryLogitAndLeavesMinusInfinityAlone() {
    float[] logits = {2f, -4f, Float.NEGATIVE_INFINITY, 0f};
    new Temperature(0.5).apply(logits, new TokenHistory(false, null));
    assertThat(logits).containsExactly(4f, -8f, Float.NEGATIVE_INFINITY, 0f);
  }

  @Test
  void neverChangesTheOrderOfTokens() {
    float[] logits = {0.1f, 3f, -2f, 2.9f};
    new Temperature(7).apply(logits, new TokenHistory(false, null));
    assertThat(Sampler.argmax(logits)).isEqualTo(1);
    assertThat(logits[3]).isGreaterThan(logits[0]).isGreaterThan(logits[2]);
  }
}
