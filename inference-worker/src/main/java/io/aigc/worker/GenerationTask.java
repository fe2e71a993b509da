package io.aigc.worker;

import java.time.Instant;
import java.util.function.Consumer;

/**
 * One request handed to the {@link GenerationEngine}.
 *
 * @param requestId the request's id, for cancellation and logs
 * @param promptIds the tokenized prompt
 * @param params sampling and stopping
 * @param createdAt when the caller created the request (queue time is measured from it)
 * @param deadline past this instant the request fails with deadline_exceeded; null for none
 * @param listener receives the outcome, exactly once, on the engine thread: it must return quickly
 */
public record GenerationTask(String requestId, int[] promptIds, SamplingParams params, Instant createdAt,
    Instant deadline, Consumer<GenerationOutcome> listener) {

  public GenerationTask {
    if (promptIds.length == 0) {
      throw new IllegalArgumentException("a prompt needs at least one token");
    }
  }

  /** Tokens this request's cache may grow to, for every choice: what admission reserves. */
  long reservedTokens() {
    return (long) params.n() * (promptIds.length + params.maxTokens());
  }
}
