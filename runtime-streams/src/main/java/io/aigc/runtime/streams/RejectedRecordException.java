package io.aigc.runtime.streams;

import io.aigc.schemas.DeadLetterReason;

/**
 * Thrown by a {@link RecordHandler} for a record it reads but will not process (a field out of range): the record
 * goes to the dead-letter topic with {@link #reason()}, and its caller gets an error with {@link #errorCode()} and
 * this exception's message, which should name the offending field.
 */
public final class RejectedRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final DeadLetterReason reason;
  private final String errorCode;

  public RejectedRecordException(DeadLetterReason reason, String errorCode, String message) {
    super(message);
    this.reason = reason;
    this.errorCode = errorCode;
  }

  public DeadLetterReason reason() {
    return reason;
  }

  /** One of {@link io.aigc.schemas.ErrorCodes}. */
  public String errorCode() {
    return errorCode;
  }
}
