package io.aigc.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A topic read from an instant, every partition assigned (no consumer group, nothing committed), committed records
 * only. It knows where the topic ended when it was opened (or where {@code until} falls), so a reader can tell when
 * it has seen everything written before: {@link #caughtUp()}.
 */
final class TopicScan implements AutoCloseable {
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(15);

  private final KafkaConsumer<String, byte[]> consumer;
  private final Map<TopicPartition, Long> ends;

  private TopicScan(KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> ends) {
    this.consumer = consumer;
    this.ends = ends;
  }

  /**
   * Positioned at the first record written at or after {@code from} in every partition; the bound of
   * {@link #caughtUp()} is the first record at or after {@code until}, or the end when {@code until} is null.
   */
  static TopicScan open(CliConfig config, String topic, Instant from, Instant until) {
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config.kafka().consumer(null, "aigc-cli"),
        new StringDeserializer(), new ByteArrayDeserializer());
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, METADATA_TIMEOUT)) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      if (partitions.isEmpty()) {
        throw new CliException("topic " + topic + " does not exist at " + config.kafka().bootstrapServers()
            + ": is the pipeline running there?");
      }
      consumer.assign(partitions);
      // The end first: a record written between the two lookups is then read, not skipped.
      Map<TopicPartition, Long> ends = new HashMap<>(consumer.endOffsets(partitions, METADATA_TIMEOUT));
      Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(at(partitions, from),
          METADATA_TIMEOUT);
      Map<TopicPartition, OffsetAndTimestamp> stops = until == null ? Map.of()
          : consumer.offsetsForTimes(at(partitions, until), METADATA_TIMEOUT);
      for (TopicPartition tp : partitions) {
        OffsetAndTimestamp start = starts.get(tp);
        consumer.seek(tp, start == null ? ends.get(tp) : start.offset());
        OffsetAndTimestamp stop = stops.get(tp);
        if (stop != null) {
          ends.put(tp, stop.offset());
        }
      }
      return new TopicScan(consumer, ends);
    } catch (TimeoutException e) {
      consumer.close(CloseOptions.timeout(Duration.ZERO));
      throw new CliException("cannot reach Kafka at " + config.kafka().bootstrapServers() + " (" + e.getMessage()
          + "): is the broker running there? KAFKA_BOOTSTRAP_SERVERS names it");
    } catch (RuntimeException e) {
      consumer.close(CloseOptions.timeout(Duration.ZERO));
      throw e;
    }
  }

  private static Map<TopicPartition, Long> at(List<TopicPartition> partitions, Instant instant) {
    Map<TopicPartition, Long> times = new HashMap<>();
    partitions.forEach(tp -> times.put(tp, instant.toEpochMilli()));
    return times;
  }

  List<ConsumerRecord<String, byte[]>> poll(Duration timeout) {
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    consumer.poll(timeout).forEach(records::add);
    return records;
  }

  /** Every record before the bound has been returned by {@link #poll}. */
  boolean caughtUp() {
    for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
      if (consumer.position(end.getKey(), METADATA_TIMEOUT) < end.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** Every record before the bound (some past it too: filter by offset or time), read to the bound. */
  List<ConsumerRecord<String, byte[]>> readToBound() {
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    while (!caughtUp()) {
      for (ConsumerRecord<String, byte[]> record : poll(Duration.ofMillis(200))) {
        Long end = ends.get(new TopicPartition(record.topic(), record.partition()));
        if (record.offset() < end) {
          records.add(record);
        }
      }
    }
    return records;
  }

  @Override
  public void close() {
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
  }
}
