package io.aigc.runtime.streams;

import io.aigc.schemas.Topic;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/**
 * A record on its way out of a topology: the topic it goes to, its key, and its value already encoded.
 *
 * <p>The value is encoded where the record is made, inside {@link GuardedProcessor}'s error handling: a value that
 * cannot be written (a required field left null) then becomes a dead letter like any other failure, instead of a
 * serialization error in the sink that would kill the stream thread on the same record again and again.
 * {@link #to(Topic, String, SpecificRecord)} takes the topic with its serde, so no value reaches the wrong topic.
 */
public final class Routed {
  /** Sends each record to the topic it names: one sink serves all of a topology's output topics. */
  public static final TopicNameExtractor<String, Routed> TOPIC = (key, routed, context) -> routed.topic;

  private static final Serde<Routed> SERDE = Serdes.serdeFrom(
      (topic, routed) -> routed == null ? null : routed.value,
      (topic, bytes) -> {
        throw new UnsupportedOperationException("Routed is written, never read");
      });

  private final String topic;
  private final String key;
  private final byte[] value;

  private Routed(String topic, String key, byte[] value) {
    this.topic = topic;
    this.key = key;
    this.value = value;
  }

  /** {@code value} for {@code topic}, encoded now with the topic's serde. */
  public static <V extends SpecificRecord> Routed to(Topic<V> topic, String key, V value) {
    return new Routed(topic.name(), key, topic.valueSerde().encode(value));
  }

  /** How the sink writes these records: the key as UTF-8, the value's bytes as they are. */
  public static Produced<String, Routed> produced() {
    return Produced.with(Serdes.String(), SERDE).withName("outcomes");
  }

  public String topic() {
    return topic;
  }

  /** The record's key, the request id; null for a dead letter whose request id could not be read. */
  public String key() {
    return key;
  }

  @Override
  public String toString() {
    return "Routed[" + topic + ", " + key + ", " + value.length + " bytes]";
  }
}
