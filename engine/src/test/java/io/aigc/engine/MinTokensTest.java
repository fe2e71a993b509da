package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class MinTokensTest {
  private static final float INF = Float.NEGATIVE_INFINITY;

  @Test
  void holdsTheEndOfSequenceTokensBackUntilTheChoiceHasEnoughTokens() {
    MinTokens minTokens = new MinTokens(2, Set.of(0, 3));
    TokenHistory history = new TokenHistory(false, null);
    float[] logits = {9f, 1f, 2f, 8f};
    minTokens.apply(logits, history);
    assertThat(logits).containsExactly(INF, 1f, 2f, INF);

    history.add(1);
    logits = new float[] {9f, 1f, 2f, 8f};
    minTokens.apply(logits, history);
    assertThat(logits).containsExactly(INF, 1f, 2f, INF);

    history.add(2);
    logits = new float[] {9f, 1f, 2f, 8f};
    minTokens.apply(logits, history);
    assertThat(logits).containsExactly(9f, 1f, 2f, 8f);
  }

  @Test
  void ignoresEndOfSequenceIdsBeyondTheLogits() {
    float[] logits = {1f, 2f};
    new MinTokens(1, Set.of(1, 50_000)).apply(logits, new TokenHistory(false, null));
    assertThat(logits).containsExactly(1f, INF);
  }
}
