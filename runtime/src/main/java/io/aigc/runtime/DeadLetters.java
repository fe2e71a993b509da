package io.aigc.runtime;

import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.DeadLetterReason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every service does with a record it cannot process: keep it, with where it came from and why, on the
 * dead-letter topic, and name the caller who must still be answered (the record's key, or the request id inside its
 * value). The caller's error itself is {@link io.aigc.schemas.Events#callerError} on the generated topic, or a
 * completion where the postprocessor is the one that failed.
 */
public final class DeadLetters {
  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private DeadLetters() {}

  /** Where a record was read, and its bytes as they were. */
  public record Source(String topic, int partition, long offset, long timestampMs, byte[] key, byte[] value) {
    /** The record's key as a request id, or "" when it has none. */
    public String keyText() {
      return key == null ? "" : new String(key, StandardCharsets.UTF_8);
    }

    /** When the record was written, or {@code fallback} when it carries no timestamp. */
    public Instant timestampOr(Instant fallback) {
      return timestampMs >= 0 ? Instant.ofEpochMilli(timestampMs) : fallback;
    }

    @Override
    public String toString() {
      return topic + "-" + partition + "@" + offset;
    }
  }

  /**
   * The dead letter of {@code source}, logged once here so every service says it the same way.
   *
   * @param callerId whose request it was: the key, or the id inside the value; null or empty when unknown
   */
  public static DeadLetter of(String service, Source source, DeadLetterReason reason, String message,
      String callerId) {
    log.warn("{}: dead-lettering {} ({}): {}", service, source, reason.code(), message);
    return DeadLetter.newBuilder()
        .setSourceTopic(source.topic())
        .setSourcePartition(source.partition())
        .setSourceOffset(source.offset())
        .setSourceTimestamp(source.timestampMs() < 0 ? null : source.timestampMs())
        .setKey(source.key() == null ? null : ByteBuffer.wrap(source.key()))
        .setValue(source.value() == null ? null : ByteBuffer.wrap(source.value()))
        .setReasonCode(reason.code())
        .setReason(message == null ? reason.code() : message)
        .setRequestId(callerId == null || callerId.isEmpty() ? null : callerId)
        .setService(service)
        .setFailedAt(System.currentTimeMillis())
        .build();
  }
}
