package io.aigc.schemas;

/** The stable error codes a failed {@link Completion} carries in {@link GenerationError#getCode()}. */
public final class ErrorCodes {
  /** The prompt and max_tokens together do not fit the model's context. */
  public static final String CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded";
  /** The request's deadline passed before it was generated. */
  public static final String DEADLINE_EXCEEDED = "deadline_exceeded";
  /** A field is out of range (a producer that bypassed the gateway's validation). */
  public static final String INVALID_REQUEST = "invalid_request";
  /** The request names a model this deployment does not serve. */
  public static final String MODEL_NOT_FOUND = "model_not_found";
  /** The record could not be read at some stage; its bytes are in the dead-letter topic. */
  public static final String POISON_RECORD = "poison_record";
  /** The caller cancelled the request before it finished. */
  public static final String CANCELLED = "cancelled";
  /** The service failed on a valid request; the record is in the dead-letter topic. */
  public static final String INTERNAL_ERROR = "internal_error";

  private ErrorCodes() {}
}
