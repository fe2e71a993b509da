package io.aigc.schemas;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * A topic's name together with the serdes of its keys and values, so no code can pair a topic with the
 * wrong serde. Every topic is keyed by the request id as a UTF-8 string.
 */
public final class Topic<V extends SpecificRecord> {
  private final String name;
  private final AvroSerde<V> valueSerde;

  Topic(String name, AvroSerde<V> valueSerde) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("topic name must not be blank");
    }
    this.name = name;
    this.valueSerde = valueSerde;
  }

  public String name() {
    return name;
  }

  public Serde<String> keySerde() {
    return Serdes.String();
  }

  public AvroSerde<V> valueSerde() {
    return valueSerde;
  }

  @Override
  public String toString() {
    return name;
  }
}
