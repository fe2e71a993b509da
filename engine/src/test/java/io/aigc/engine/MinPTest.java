package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MinPTest {
  private static final float INF = Float.NEGATIVE_INFINITY;

  private static float[] apply(double minP, float... logits) {
    new MinP(minP).apply(logits, new TokenHistory(false, null));
    return logits;
  }

  @Test
  void dropsTokensLessLikelyThanMinPTimesTheMostLikely() {
    // Relative to the best: e^-1 ~ 0.37, e^-2 ~ 0.14, e^-3 ~ 0.05.
    assertThat(apply(0.1, 3f, 2f, 1f, 0f)).containsExactly(3f, 2f, 1f, INF);
    assertThat(apply(0.2, 3f, 2f, 1f, 0f)).containsExactly(3f, 2f, INF, INF);
  }

  @Test
  void oneKeepsOnlyTheMostLikelyTokensAndTheirTies() {
    assertThat(apply(1, 3f, 1f, 3f)).containsExactly(3f, INF, 3f);
  }
}
