package io.aigc.gateway;

import io.aigc.schemas.GenerationParams;
import io.aigc.schemas.GenerationRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A request body that passed {@link RequestValidator}, with OpenAI's defaults filled in. Two requests are equal
 * exactly when they would generate the same job, which is what an {@code Idempotency-Key} retry is compared by.
 *
 * @param seed null when sampling need not be reproducible
 * @param ignoreEos generate max_tokens tokens even past the end-of-sequence token
 * @param timeout null when the job has no deadline
 */
record CompletionRequest(String prompt, int maxTokens, double temperature, double topP, int topK, int n,
    List<String> stop, Long seed, boolean ignoreEos, Map<String, String> metadata, Duration timeout) {

  CompletionRequest {
    stop = List.copyOf(stop);
    metadata = Map.copyOf(metadata);
  }

  /** The event published to the requests topic for job {@code requestId}. */
  GenerationRequest toEvent(String requestId, Instant createdAt, String model) {
    return GenerationRequest.newBuilder()
        .setRequestId(requestId)
        .setCreatedAt(createdAt.toEpochMilli())
        .setDeadline(timeout == null ? null : createdAt.plus(timeout).toEpochMilli())
        .setModel(model)
        .setPrompt(prompt)
        .setParams(GenerationParams.newBuilder()
            .setMaxTokens(maxTokens)
            .setTemperature(temperature)
            .setTopP(topP)
            .setTopK(topK)
            .setN(n)
            .setSeed(seed)
            .setStop(stop)
            .setIgnoreEos(ignoreEos)
            .build())
        .setMetadata(metadata)
        .build();
  }

  /** Prompts are never logged: only their size. */
  @Override
  public String toString() {
    return "CompletionRequest[prompt=" + prompt.length() + " chars, max_tokens=" + maxTokens + ", n=" + n + "]";
  }
}
