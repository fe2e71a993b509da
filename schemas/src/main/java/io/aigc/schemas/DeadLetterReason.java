package io.aigc.schemas;

/** Why a record went to the dead-letter topic. The code is what {@link DeadLetter#getReasonCode()} carries. */
public enum DeadLetterReason {
  /** The bytes are not Avro single-object encoding (no 0xC3 0x01 header, or a body that does not parse). */
  NOT_AVRO("not_avro"),
  /** The header names a writer schema that is not a released version of the expected type. */
  UNKNOWN_SCHEMA("unknown_schema"),
  /** The record parses but a field is out of range (for example max_tokens of 0). */
  INVALID_VALUE("invalid_value"),
  /** The record is valid but the service failed on it. */
  PROCESSING_ERROR("processing_error");

  private final String code;

  DeadLetterReason(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}
