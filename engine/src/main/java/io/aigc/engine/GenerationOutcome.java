package io.aigc.engine;

import java.util.Arrays;
import java.util.List;

/**
 * What the engine made of a {@link GenerationTask}: the generated token ids of every choice (and their
 * log-probabilities, if asked for), or why it failed.
 *
 * @param requestId the task's request id
 * @param choices one per requested choice, in index order; empty on failure
 * @param promptTokens length of the prompt
 * @param queueMs from the request's creation to the start of its prefill
 * @param timeToFirstTokenMs from the start of its prefill to its first token
 * @param decodeMs from its first token to its last
 * @param failure null on success
 * @param message what went wrong, for a human; null on success
 */
public record GenerationOutcome(String requestId, List<Choice> choices, int promptTokens, long queueMs,
    long timeToFirstTokenMs, long decodeMs, Failure failure, String message) {

  public GenerationOutcome {
    choices = List.copyOf(choices);
  }

  /**
   * The tokens of one choice (end-of-sequence tokens not included), why it ended, and the log-probabilities of its
   * tokens, one per token in order, if the request asked for them (else empty).
   */
  public record Choice(int index, int[] tokens, FinishReason finishReason, List<TokenLogprobs> logprobs) {
    public Choice {
      tokens = tokens.clone();
      logprobs = List.copyOf(logprobs);
      if (!logprobs.isEmpty() && logprobs.size() != tokens.length) {
        throw new IllegalArgumentException("one logprobs entry per token, or none");
      }
    }

    /** A choice without log-probabilities. */
    public Choice(int index, int[] tokens, FinishReason finishReason) {
      this(index, tokens, finishReason, List.of());
    }

    /** A copy: the record's own array is never handed out. */
    @Override
    public int[] tokens() {
      return tokens.clone();
    }

    public int tokenCount() {
      return tokens.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Choice c && c.index == index && Arrays.equals(c.tokens, tokens)
          && c.finishReason == finishReason && c.logprobs.equals(logprobs);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * (31 * index + Arrays.hashCode(tokens)) + finishReason.hashCode()) + logprobs.hashCode();
    }

    @Override
    public String toString() {
      return "Choice[" + index + ", " + tokens.length + " tokens, " + finishReason.code()
          + (logprobs.isEmpty() ? "" : ", with logprobs") + "]";
    }
  }

  static GenerationOutcome failed(String requestId, int promptTokens, Failure failure, String message) {
    return new GenerationOutcome(requestId, List.of(), promptTokens, 0, 0, 0, failure, message);
  }

  public boolean isFailure() {
    return failure != null;
  }

  /** Tokens generated over every choice. */
  public int generatedTokens() {
    return choices.stream().mapToInt(Choice::tokenCount).sum();
  }
}
