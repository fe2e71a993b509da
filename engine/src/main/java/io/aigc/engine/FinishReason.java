package io.aigc.engine;

import java.util.Locale;

/** Why a choice stopped: what OpenAI's {@code finish_reason} says. */
public enum FinishReason {
  /** The end-of-sequence token, or a stop string. */
  STOP,
  /** max_tokens, or the model's context length. */
  LENGTH;

  /** "stop" or "length", as the API and the contract spell it. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
