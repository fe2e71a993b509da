package io.aigc.engine;

/** Divides the logits by the temperature: below 1 the distribution sharpens, above 1 it flattens. */
final class Temperature implements LogitsProcessor {
  private final double temperature;

  Temperature(double temperature) {
    this.temperature = temperature;
  }

  @Override
  public void apply(float[] logits, TokenHistory history) {
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) (logits[i] / temperature);
    }
  }
}
