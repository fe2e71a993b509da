package io.aigc.engine;

/**
 * Hugging Face's and vLLM's {@code repetition_penalty} (from the CTRL paper): every token of the prompt or of the
 * choice's output becomes less likely by dividing a positive logit by the penalty and multiplying a negative one,
 * whatever its count. Only the tokens seen are touched, not the vocabulary.
 */
final class RepetitionPenalty implements LogitsProcessor {
  private final float penalty;

  RepetitionPenalty(double penalty) {
    this.penalty = (float) penalty;
  }

  @Override
  public void apply(float[] logits, TokenHistory history) {
    TokenCounts seen = history.seen;
    for (int i = 0; i < seen.size(); i++) {
      int token = seen.token(i);
      float logit = logits[token];
      logits[token] = logit > 0 ? logit / penalty : logit * penalty;
    }
  }
}
