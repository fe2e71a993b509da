package io.aigc.engine;

/**
 * Min-p sampling: drops the tokens less likely than {@code minP} times the most likely one. Probabilities share a
 * denominator, so that is a logit below the highest plus {@code ln(minP)}: no softmax is needed.
 */
final class MinP implements LogitsProcessor {
  private final double logMinP;

  MinP(double minP) {
    this.logMinP = Math.log(minP);
  }

  @Override
  public void apply(float[] logits, TokenHistory history) {
    float max = Float.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    double threshold = max + logMinP;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < threshold) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }
}
