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
   * The error that tells {@code requestId}'s caller its record could not be processed: {@link #failed} for its
   * request, or for a stand-in when the record's value could not be read.
   *
   * @param request the request, or null when only its id (the record key) could be read
   * @param createdAt when the unreadable request was created, as far as anyone can tell (its record's timestamp)
   */
  public static GeneratedSequence callerError(String requestId, GenerationRequest request, Instant createdAt,
      String model, String code, String message, String producer) {
    return failed(request != null ? request : placeholderRequest(requestId, createdAt), model, List.of(), code,
        message, producer);
  }

  /**
   * A request's one error completion.
   *
   * @param request the request, or null when it could not be read
   * @param createdAt the request's creation time when it could not be read, as far as anyone can tell
   * @param timings how far it got, or null
   */
  public static Completion failedCompletion(String requestId, GenerationRequest request, Instant createdAt,
      String model, GenerationError error, Timings timings, Instant now) {
    return Completion.newBuilder()
        .setRequestId(requestId)
        .setStatus(CompletionStatus.ERROR)
        .setError(error)
        .setModel(model)
        .setCreatedAt(request == null ? createdAt.toEpochMilli() : request.getCreatedAt())
        .setCompletedAt(now.toEpochMilli())
        .setChoices(List.of())
        .setUsage(null)
        .setTimings(timings)
        .setMetadata(request == null ? Map.of() : request.getMetadata())
        .setTask(request == null ? null : request.getTask())
        .setChat(request != null && request.getMessages() != null)
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
