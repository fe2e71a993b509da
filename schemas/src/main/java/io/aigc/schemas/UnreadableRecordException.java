package io.aigc.schemas;

import org.apache.kafka.common.errors.SerializationException;

/** Bytes that cannot become a record of the expected type, with the reason the dead-letter topic records. */
public final class UnreadableRecordException extends SerializationException {
  private static final long serialVersionUID = 1L;
  private final DeadLetterReason reason;

  public UnreadableRecordException(DeadLetterReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public DeadLetterReason reason() {
    return reason;
  }
}
