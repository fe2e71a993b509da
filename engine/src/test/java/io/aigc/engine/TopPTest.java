package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TopPTest {
  private static final float INF = Float.NEGATIVE_INFINITY;
  private static final float LN2 = (float) Math.log(2);
  private static final float LN4 = (float) Math.log(4);

  private static float[] apply(double p, float... logits) {
    new TopP(p, new Sampler.Scratch()).apply(logits, new TokenHistory(false, null));
    return logits;
  }

  @Test
  void keepsTheSmallestSetOfMostLikelyTokensThatReachesP() {
    // Probabilities 4/7, 2/7, 1/7: 0.6 needs the first two, 0.5 the first alone.
    assertThat(apply(0.6, 0f, LN4, LN2)).containsExactly(INF, LN4, LN2);
    assertThat(apply(0.5, 0f, LN4, LN2)).containsExactly(INF, LN4, INF);
  }

  @Test
  void alwaysKeepsTheMostLikelyToken() {
    assertThat(apply(1e-9, 0f, 1f, 0f)).containsExactly(INF, 1f, INF);
  }

  @Test
  void measuresMassInWhatEarlierProcessorsLeft() {
    // Token 0 was dropped already: of {1, 2} with 2/3 and 1/3, 0.6 keeps token 1 only.
    assertThat(apply(0.6, INF, LN2, 0f)).containsExactly(INF, LN2, INF);
  }

  @Test
  void onATieKeepsTheLowerIdsFirst() {
    assertThat(apply(0.3, 1f, 1f, 1f)).containsExactly(1f, INF, INF);
  }
}
