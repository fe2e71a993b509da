package io.aigc.engine;

/**
 * OpenAI's {@code presence_penalty} and {@code frequency_penalty}: a token the choice has generated {@code c > 0}
 * times loses {@code presence + frequency * c} from its logit. The prompt does not count, as in OpenAI and vLLM.
 */
final class PresenceFrequencyPenalty implements LogitsProcessor {
  private final double presence;
  private final double frequency;

  PresenceFrequencyPenalty(double presence, double frequency) {
    this.presence = presence;
    this.frequency = frequency;
  }

  @Override
  public void apply(float[] logits, TokenHistory history) {
    TokenCounts generated = history.generated;
    for (int i = 0; i < generated.size(); i++) {
      int token = generated.token(i);
      logits[token] = (float) (logits[token] - presence - frequency * generated.count(i));
    }
  }
}
