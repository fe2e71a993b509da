package io.aigc.gateway;

import io.aigc.schemas.GenerationParams;
import io.aigc.schemas.GenerationRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A request body that passed {@link RequestValidator}, with OpenAI's defaults filled in. Two requests are equal
 * exactly when they would generate the same job, which is what an {@code Idempotency-Key} retry is compared by.
 *
 * @param seed null when sampling need not be reproducible
 * @param ignoreEos generate max_tokens tokens even past the end-of-sequence token
 * @param metadata the client's metadata, plus {@value #API_KEY_NAME} once {@linkplain #ownedBy owned}
 * @param timeout null when the job has no deadline
 */
record CompletionRequest(String prompt, int maxTokens, double temperature, double topP, int topK, int n,
    List<String> stop, Long seed, boolean ignoreEos, Map<String, String> metadata, Duration timeout) {
  /**
   * The metadata key naming the API key that created the job, so consumers of the completions topic can attribute
   * jobs, and a restarted gateway knows whose job a completion is. Reserved: clients cannot set it.
   */
  static final String API_KEY_NAME = "api_key_name";

  CompletionRequest {
    stop = List.copyOf(stop);
    metadata = Map.copyOf(metadata);
  }

  /** This request as sent by the caller with key {@code keyName}; itself when {@code keyName} is null (no keys). */
  CompletionRequest ownedBy(String keyName) {
    if (keyName == null) {
      return this;
    }
    Map<String, String> owned = new HashMap<>(metadata);
    owned.put(API_KEY_NAME, keyName);
    return new CompletionRequest(prompt, maxTokens, temperature, topP, topK, n, stop, seed, ignoreEos, owned,
        timeout);
  }

  /** The name of the API key that sent it, or null. */
  String owner() {
    return metadata.get(API_KEY_NAME);
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
