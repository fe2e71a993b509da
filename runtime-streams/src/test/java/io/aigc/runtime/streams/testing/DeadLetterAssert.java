package io.aigc.runtime.streams.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * What the topology tests check of a dead letter: why, where it was read (a test driver's topic has one partition),
 * and that it carries the record's key and bytes exactly as they were.
 */
public final class DeadLetterAssert {
  private final DeadLetter letter;

  private DeadLetterAssert(DeadLetter letter) {
    this.letter = letter;
  }

  public static DeadLetterAssert assertThatLetter(DeadLetter letter) {
    assertThat(letter).isNotNull();
    return new DeadLetterAssert(letter);
  }

  public DeadLetterAssert hasReason(String code) {
    assertThat(letter.getReasonCode()).isEqualTo(code);
    return this;
  }

  public DeadLetterAssert readFrom(String topic, long offset) {
    assertThat(letter.getSourceTopic()).isEqualTo(topic);
    assertThat(letter.getSourcePartition()).isZero();
    assertThat(letter.getSourceOffset()).isEqualTo(offset);
    return this;
  }

  public DeadLetterAssert writtenAt(Instant recordTimestamp) {
    assertThat(letter.getSourceTimestamp()).isEqualTo(recordTimestamp.toEpochMilli());
    return this;
  }

  /** The record's value, byte for byte. */
  public DeadLetterAssert carries(byte[] value) {
    assertThat(bytes(letter.getValue())).isEqualTo(value);
    return this;
  }

  /** The record's key (its request id, which the letter names too) and value, byte for byte. */
  public DeadLetterAssert carries(String key, byte[] value) {
    assertThat(bytes(letter.getKey())).isEqualTo(key.getBytes(StandardCharsets.UTF_8));
    assertThat(letter.getRequestId()).isEqualTo(key);
    return carries(value);
  }

  public DeadLetterAssert by(String service) {
    assertThat(letter.getService()).isEqualTo(service);
    return this;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }
}
