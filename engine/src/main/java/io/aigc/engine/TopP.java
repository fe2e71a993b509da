package io.aigc.engine;

import java.util.Arrays;

/**
 * Nucleus sampling: keeps the most likely tokens until their probability reaches p (always at least one), in the
 * distribution left by the processors before it. Only tokens still in play are sorted, so after top-k it sorts k.
 */
record TopP(double p, Sampler.Scratch scratch) implements LogitsProcessor {
  @Override
  public void apply(float[] logits, TokenHistory history) {
    long[] keys = scratch.keys(logits.length);
    int count = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] != Float.NEGATIVE_INFINITY) {
        keys[count++] = ByLogit.key(logits[i], i);
      }
    }
    if (count == 0) {
      return;
    }
    Arrays.sort(keys, 0, count);
    double max = logits[ByLogit.token(keys[0])];
    double[] weights = scratch.weights(count);
    double sum = 0;
    for (int j = 0; j < count; j++) {
      weights[j] = Math.exp(logits[ByLogit.token(keys[j])] - max);
      sum += weights[j];
    }
    double kept = 0;
    int keep = 0;
    while (keep < count && kept < p * sum) {
      kept += weights[keep++];
    }
    for (int j = Math.max(keep, 1); j < count; j++) {
      logits[ByLogit.token(keys[j])] = Float.NEGATIVE_INFINITY;
    }
  }
}
