package io.aigc.engine;

import java.util.Map;

/** OpenAI's {@code logit_bias}: a fixed amount added to the logits of chosen tokens. Admission checks the ids. */
final class LogitBias implements LogitsProcessor {
  private final int[] tokens;
  private final float[] biases;

  LogitBias(Map<Integer, Double> bias) {
    tokens = bias.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    biases = new float[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      biases[i] = bias.get(tokens[i]).floatValue();
    }
  }

  @Override
  public void apply(float[] logits, TokenHistory history) {
    for (int i = 0; i < tokens.length; i++) {
      logits[tokens[i]] += biases[i];
    }
  }
}
