package io.aigc.engine;

import java.util.Set;

/**
 * vLLM's {@code min_tokens}: until the choice has that many tokens, its end-of-sequence tokens cannot be drawn, so
 * it does not end early (stop strings wait too, in {@link RunningRequest}).
 */
final class MinTokens implements LogitsProcessor {
  private final int minTokens;
  private final int[] eosTokenIds;

  MinTokens(int minTokens, Set<Integer> eosTokenIds) {
    this.minTokens = minTokens;
    this.eosTokenIds = eosTokenIds.stream().mapToInt(Integer::intValue).sorted().toArray();
  }

  @Override
  public void apply(float[] logits, TokenHistory history) {
    if (history.generatedCount() >= minTokens) {
      return;
    }
    for (int eos : eosTokenIds) {
      if (eos < logits.length) {
        logits[eos] = Float.NEGATIVE_INFINITY;
      }
    }
  }
}
