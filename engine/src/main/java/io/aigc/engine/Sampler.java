package io.aigc.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits: argmax when the temperature is 0, otherwise temperature, top-k and
 * top-p (nucleus) sampling, in that order, as Hugging Face's generate does.
 *
 * <p>Deterministic for a given random stream: candidates are ordered by logit with ties broken by token id, and all
 * arithmetic is in double, so a seeded request draws the same tokens whatever else shares its batch.
 */
final class Sampler {
  private Sampler() {}

  static int next(float[] logits, SamplingParams params, SplittableRandom random) {
    if (params.isGreedy()) {
      return argmax(logits);
    }
    int vocab = logits.length;
    boolean restrictK = params.topK() > 0 && params.topK() < vocab;
    boolean restrictP = params.topP() < 1.0;
    int[] order = restrictK || restrictP ? byLogitDescending(logits) : null;
    int count = restrictK ? params.topK() : vocab;

    double inverseTemperature = 1.0 / params.temperature();
    double max = logits[order != null ? order[0] : argmax(logits)];
    double[] weights = new double[count];
    double sum = 0;
    for (int i = 0; i < count; i++) {
      int token = order != null ? order[i] : i;
      weights[i] = Math.exp((logits[token] - max) * inverseTemperature);
      sum += weights[i];
    }
    if (restrictP) {
      // Keep the most likely tokens until their probability mass reaches top_p (always at least one).
      double kept = 0;
      int keep = 0;
      while (keep < count && kept < params.topP() * sum) {
        kept += weights[keep++];
      }
      count = Math.max(keep, 1);
      sum = kept > 0 ? kept : weights[0];
    }
    double u = random.nextDouble() * sum;
    for (int i = 0; i < count; i++) {
      u -= weights[i];
      if (u < 0) {
        return order != null ? order[i] : i;
      }
    }
    return order != null ? order[count - 1] : count - 1; // rounding left u a hair above zero
  }

  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Token ids ordered by logit, highest first, ties by lower id; one primitive sort of packed keys. */
  static int[] byLogitDescending(float[] logits) {
    long[] keys = new long[logits.length];
    for (int i = 0; i < logits.length; i++) {
      int bits = Float.floatToIntBits(logits[i]);
      int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // monotonic in the float's value
      long descending = 0xffffffffL - (ordered + 0x80000000L); // larger logits get smaller keys
      keys[i] = (descending << 24) | i;
    }
    Arrays.sort(keys);
    int[] order = new int[logits.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = (int) (keys[i] & 0xffffff);
    }
    return order;
  }
}
