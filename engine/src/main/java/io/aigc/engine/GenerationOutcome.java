package io.aigc.engine;

import java.util.Arrays;
import java.util.List;

/**
 * What the engine made of a {@link GenerationTask}: the generated token ids of every choice, or why it failed.
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

  /** The tokens of one choice (end-of-sequence tokens not included) and why it ended. */
  public record Choice(int index, int[] tokens, FinishReason finishReason) {
    public Choice {
      tokens = tokens.clone();
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
          && c.finishReason == finishReason;
    }

    @Override
    public int hashCode() {
      return 31 * (31 * index + Arrays.hashCode(tokens)) + finishReason.hashCode();
    }

    @Override
    public String toString() {
      return "Choice[" + index + ", " + tokens.length + " tokens, " + finishReason.code() + "]";
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
