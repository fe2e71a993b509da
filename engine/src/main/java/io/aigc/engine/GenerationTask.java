package io.aigc.engine;

import io.aigc.model.SamplingParams;
import java.time.Instant;

/**
 * One request handed to the {@link GenerationEngine}.
 *
 * @param requestId the request's id, for cancellation and logs
 * @param promptIds the tokenized prompt (copied; never handed out)
 * @param params sampling and stopping
 * @param createdAt when the caller created the request (queue time is measured from it)
 * @param deadline past this instant the request fails with {@link Failure#DEADLINE_EXCEEDED}; null for none
 * @param listener receives the tokens as they are generated, then the outcome, exactly once
 */
public record GenerationTask(String requestId, int[] promptIds, SamplingParams params, Instant createdAt,
    Instant deadline, GenerationListener listener) {

  public GenerationTask {
    if (promptIds.length == 0) {
      throw new IllegalArgumentException("a prompt needs at least one token");
    }
    promptIds = promptIds.clone();
  }

  /** A copy: the task's own array is never handed out. */
  @Override
  public int[] promptIds() {
    return promptIds.clone();
  }

  int promptLength() {
    return promptIds.length;
  }

  /** The prompt itself, for the engine's own reads; never modified. */
  int[] prompt() {
    return promptIds;
  }

  /** Tokens this request's cache may grow to, for every choice: what admission reserves. */
  long reservedTokens() {
    return (long) params.n() * (promptIds.length + params.maxTokens());
  }

  boolean expiredAt(Instant now) {
    return deadline != null && now.isAfter(deadline);
  }

  @Override
  public String toString() {
    return "GenerationTask[" + requestId + ", " + promptIds.length + " prompt tokens, n=" + params.n() + "]";
  }
}
