package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PresenceFrequencyPenaltyTest {
  @Test
  void subtractsPresenceOnceAndFrequencyPerOccurrenceOfGeneratedTokens() {
    TokenHistory history = new TokenHistory(true, null);
    history.add(1);
    history.add(2);
    history.add(2);
    history.add(2);
    float[] logits = {5f, 5f, 5f, 5f};
    new PresenceFrequencyPenalty(0.5, 0.25).apply(logits, history);
    assertThat(logits).containsExactly(5f, 4.25f, 3.75f, 5f);
  }

  @Test
  void thePromptDoesNotCount() {
    TokenHistory history = new TokenHistory(true, new int[] {0, 0, 1});
    float[] logits = {2f, 2f};
    new PresenceFrequencyPenalty(2, 2).apply(logits, history);
    assertThat(logits).containsExactly(2f, 2f);
  }

  @Test
  void negativePenaltiesEncourageRepetition() {
    TokenHistory history = new TokenHistory(true, null);
    history.add(1);
    float[] logits = {3f, 2f};
    new PresenceFrequencyPenalty(-1, -1).apply(logits, history);
    assertThat(logits).containsExactly(3f, 4f);
  }
}
