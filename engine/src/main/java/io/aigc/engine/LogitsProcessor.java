package io.aigc.engine;

/**
 * One step of turning a row of logits into the distribution the next token is drawn from: a bias, a penalty, the
 * temperature, or a truncation that sets the tokens it drops to minus infinity. A {@link Sampler} chains the ones a
 * request turned on, in a fixed order, once per step of each of its choices.
 */
interface LogitsProcessor {
  /**
   * Rewrites {@code logits} in place for the choice whose tokens so far are {@code history}. The array is the
   * sampler's own copy of the model's row, never the model's.
   */
  void apply(float[] logits, TokenHistory history);
}
