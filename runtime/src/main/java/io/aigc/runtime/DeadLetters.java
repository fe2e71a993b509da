package io.aigc.runtime;

import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.DeadLetterReason;
import java.nio.ByteBuffer;

/** Builds the record that keeps an unprocessable input, with where it came from and why, for inspection and replay. */
public final class DeadLetters {
  private DeadLetters() {}

  public static DeadLetter of(String service, String topic, int partition, long offset, Long timestampMs,
      byte[] key, byte[] value, DeadLetterReason reason, String message, String requestId) {
    return DeadLetter.newBuilder()
        .setSourceTopic(topic)
        .setSourcePartition(partition)
        .setSourceOffset(offset)
        .setSourceTimestamp(timestampMs == null || timestampMs < 0 ? null : timestampMs)
        .setKey(key == null ? null : ByteBuffer.wrap(key))
        .setValue(value == null ? null : ByteBuffer.wrap(value))
        .setReasonCode(reason.code())
        .setReason(message == null ? reason.code() : message)
        .setRequestId(requestId == null || requestId.isEmpty() ? null : requestId)
        .setService(service)
        .setFailedAt(System.currentTimeMillis())
        .build();
  }
}
