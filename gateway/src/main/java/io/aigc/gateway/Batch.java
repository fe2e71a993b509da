package io.aigc.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A batch as {@code /v1/batches} shows it (OpenAI's batch object), plus what the gateway needs to resume it: its
 * owner and how many of its lines were handed to Kafka. Immutable: every change makes a new one, which
 * {@link Batches} writes to the data folder before anyone can see it.
 *
 * <p>Its status moves {@code validating} → {@code in_progress} → {@code finalizing} → {@code completed}, or to
 * {@code failed} (the input file cannot run), {@code expired} (the completion window passed first) or, through
 * {@code cancelling}, {@code cancelled}. Timestamps are Unix seconds, null until reached.
 */
record Batch(String id, String owner, String endpoint, String inputFileId, String completionWindow, Status status,
    long createdAt, long expiresAt, Map<Status, Long> reached, String outputFileId, String errorFileId,
    List<BatchInput.Problem> errors, int total, int completed, int failed, int submitted,
    Map<String, String> metadata, Long outputExpiresAfter) {

  enum Status {
    VALIDATING, IN_PROGRESS, FINALIZING, COMPLETED, FAILED, EXPIRED, CANCELLING, CANCELLED;

    String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Nothing will change any more. */
    boolean finished() {
      return this == COMPLETED || this == FAILED || this == EXPIRED || this == CANCELLED;
    }

    /** The timestamp field OpenAI sets when a batch reaches this status. */
    String reachedField() {
      return switch (this) {
        case VALIDATING -> "created_at";
        case IN_PROGRESS -> "in_progress_at";
        case FINALIZING -> "finalizing_at";
        case COMPLETED -> "completed_at";
        case FAILED -> "failed_at";
        case EXPIRED -> "expired_at";
        case CANCELLING -> "cancelling_at";
        case CANCELLED -> "cancelled_at";
      };
    }

    static Status fromWire(String s) {
      return valueOf(s.toUpperCase(Locale.ROOT));
    }
  }

  Batch {
    reached = Map.copyOf(reached);
    errors = errors == null ? null : List.copyOf(errors);
    metadata = metadata == null ? null : Map.copyOf(metadata);
  }

  /** @param outputExpiresAfter seconds its output and error files live after they are made; null: until deleted */
  static Batch created(String id, String owner, String endpoint, String inputFileId, String completionWindow,
      long now, long expiresAt, Map<String, String> metadata, Long outputExpiresAfter) {
    return new Batch(id, owner, endpoint, inputFileId, completionWindow, Status.VALIDATING, now, expiresAt, Map.of(),
        null, null, null, 0, 0, 0, 0, metadata, outputExpiresAfter);
  }

  Batch moveTo(Status next, long now) {
    Map<Status, Long> times = new LinkedHashMap<>(reached);
    times.putIfAbsent(next, now);
    return new Batch(id, owner, endpoint, inputFileId, completionWindow, next, createdAt, expiresAt, times,
        outputFileId, errorFileId, errors, total, completed, failed, submitted, metadata, outputExpiresAfter);
  }

  Batch withTotal(int lines) {
    return new Batch(id, owner, endpoint, inputFileId, completionWindow, status, createdAt, expiresAt, reached,
        outputFileId, errorFileId, errors, lines, completed, failed, submitted, metadata, outputExpiresAfter);
  }

  Batch withErrors(List<BatchInput.Problem> problems) {
    return new Batch(id, owner, endpoint, inputFileId, completionWindow, status, createdAt, expiresAt, reached,
        outputFileId, errorFileId, problems, total, completed, failed, submitted, metadata, outputExpiresAfter);
  }

  Batch withCounts(int completedLines, int failedLines, int submittedLines) {
    return new Batch(id, owner, endpoint, inputFileId, completionWindow, status, createdAt, expiresAt, reached,
        outputFileId, errorFileId, errors, total, completedLines, failedLines, submittedLines, metadata,
        outputExpiresAfter);
  }

  Batch withFiles(String output, String error) {
    return new Batch(id, owner, endpoint, inputFileId, completionWindow, status, createdAt, expiresAt, reached,
        output, error, errors, total, completed, failed, submitted, metadata, outputExpiresAfter);
  }

  /** OpenAI's batch object. */
  JsonObject toJson() {
    JsonObject o = new JsonObject()
        .put("id", id)
        .put("object", "batch")
        .put("endpoint", endpoint)
        .put("errors", errors == null ? null : new JsonObject().put("object", "list")
            .put("data", new JsonArray(errors.stream().map(BatchInput.Problem::toJson).toList())))
        .put("input_file_id", inputFileId)
        .put("completion_window", completionWindow)
        .put("status", status.wire())
        .put("output_file_id", outputFileId)
        .put("error_file_id", errorFileId)
        .put("created_at", createdAt);
    for (Status s : Status.values()) {
      if (s != Status.VALIDATING) {
        o.put(s.reachedField(), reached.get(s));
      }
      if (s == Status.IN_PROGRESS) {
        o.put("expires_at", expiresAt);
      }
    }
    return o.put("request_counts", new JsonObject().put("total", total).put("completed", completed)
            .put("failed", failed))
        .put("metadata", metadata == null ? null : new JsonObject(new LinkedHashMap<>(metadata)));
  }

  /** What is written to the data folder: the batch object and what resuming needs. */
  JsonObject toStored() {
    return toJson().put("aigc", new JsonObject().put("owner", owner).put("submitted", submitted)
        .put("output_expires_after", outputExpiresAfter));
  }

  static Batch fromStored(JsonObject o) {
    Map<Status, Long> reached = new LinkedHashMap<>();
    for (Status s : Status.values()) {
      if (s != Status.VALIDATING && o.getLong(s.reachedField()) != null) {
        reached.put(s, o.getLong(s.reachedField()));
      }
    }
    JsonObject errors = o.getJsonObject("errors");
    List<BatchInput.Problem> problems = errors == null ? null : errors.getJsonArray("data").stream()
        .map(p -> BatchInput.Problem.fromJson((JsonObject) p)).toList();
    JsonObject counts = o.getJsonObject("request_counts");
    JsonObject aigc = o.getJsonObject("aigc");
    JsonObject metadata = o.getJsonObject("metadata");
    Map<String, String> meta = null;
    if (metadata != null) {
      meta = new LinkedHashMap<>();
      for (String key : metadata.fieldNames()) {
        meta.put(key, metadata.getString(key));
      }
    }
    return new Batch(o.getString("id"), aigc.getString("owner"), o.getString("endpoint"),
        o.getString("input_file_id"), o.getString("completion_window"), Status.fromWire(o.getString("status")),
        o.getLong("created_at"), o.getLong("expires_at"), reached, o.getString("output_file_id"),
        o.getString("error_file_id"), problems, counts.getInteger("total"), counts.getInteger("completed"),
        counts.getInteger("failed"), aigc.getInteger("submitted"), meta, aigc.getLong("output_expires_after"));
  }
}
