package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RepetitionPenaltyTest {
  @Test
  void dividesPositiveAndMultipliesNegativeLogitsOfTokensInThePromptOrTheOutput() {
    TokenHistory history = new TokenHistory(false, new int[] {0, 1, 1});
    history.add(3);
    float[] logits = {4f, -2f, 5f, 0.5f, -1f};
    new RepetitionPenalty(2).apply(logits, history);
    assertThat(logits).containsExactly(2f, -4f, 5f, 0.25f, -1f);
  }

  @Test
  void penalizesATokenOnceHoweverOftenItCame() {
    TokenHistory history = new TokenHistory(false, new int[] {2, 2, 2});
    history.add(2);
    history.add(2);
    float[] logits = {1f, 1f, 9f};
    new RepetitionPenalty(3).apply(logits, history);
    assertThat(logits[2]).isEqualTo(3f);
  }

  @Test
  void belowOneItFavoursRepetition() {
    TokenHistory history = new TokenHistory(false, new int[] {1});
    float[] logits = {3f, 2f};
    new RepetitionPenalty(0.5).apply(logits, history);
    assertThat(Sampler.argmax(logits)).isEqualTo(1);
  }
}
