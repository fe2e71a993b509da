package io.aigc.schemas;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Builders for the events that more than one service writes, so they are written the same way everywhere. */
public final class Events {
  private Events() {}

  /**
   * A request that stops before the postprocessor with an error. Any stage may publish it to the generated topic;
   * the postprocessor turns it into the request's one error completion.
   */
  public static GeneratedSequence failed(GenerationRequest request, String model, List<Integer> promptTokenIds,
      String code, String message, String producer) {
    return GeneratedSequence.newBuilder()
        .setRequest(request)
        .setModel(model)
        .setPromptTokenIds(promptTokenIds == null ? List.of() : promptTokenIds)
        .setStatus(CompletionStatus.ERROR)
        .setError(new GenerationError(code, message))
        .setChoices(List.of())
        .setTimings(null)
        .setProducer(producer)
        .build();
  }

  /**
   * Stands in for a request whose value could not be read but whose key (the request id) could, so that the
   * caller still gets an error completion.
   */
  public static GenerationRequest placeholderRequest(String requestId, Instant createdAt) {
    return GenerationRequest.newBuilder()
        .setRequestId(requestId)
        .setCreatedAt(createdAt.toEpochMilli())
        .setDeadline(null)
        .setModel(null)
        .setPrompt("")
        .setParams(GenerationParams.newBuilder().build())
        .setMetadata(Map.of())
        .build();
  }
}
