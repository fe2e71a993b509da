package io.aigc.worker;

import java.util.List;

/**
 * What the engine made of a {@link GenerationTask}: the generated token ids of every choice, or an error.
 *
 * @param requestId the task's request id
 * @param choices one per requested choice, in index order; empty on error
 * @param promptTokens length of the prompt
 * @param queueMs from the request's creation to the start of its prefill
 * @param timeToFirstTokenMs from the start of its prefill to its first token
 * @param decodeMs from its first token to its last
 * @param errorCode null on success, else an {@link io.aigc.schemas.ErrorCodes} code
 * @param errorMessage what went wrong, for a human
 */
public record GenerationOutcome(String requestId, List<Choice> choices, int promptTokens, long queueMs,
    long timeToFirstTokenMs, long decodeMs, String errorCode, String errorMessage) {

  /** The tokens of one choice (end-of-sequence tokens not included) and why it ended: "stop" or "length". */
  public record Choice(int index, int[] tokens, String finishReason) {}

  static GenerationOutcome failed(String requestId, int promptTokens, String code, String message) {
    return new GenerationOutcome(requestId, List.of(), promptTokens, 0, 0, 0, code, message);
  }

  public boolean isError() {
    return errorCode != null;
  }
}
