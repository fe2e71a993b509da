package io.aigc.runtime;

import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.Topic;
import io.aigc.schemas.UnreadableRecordException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every record of a topic, on a thread of its own, for a service of which every instance must see every
 * record: the gateways read every completion (the caller may wait on any instance), the workers every cancellation
 * (the job may run on any of them).
 *
 * <ul>
 *   <li>No consumer group: an {@link AssignedReader} on all partitions. Nothing is committed.
 *   <li>{@code read_committed} (from {@link KafkaSettings#consumer}): an aborted transaction's records never existed.
 *   <li>It starts at the first record written at or after {@code replayFrom}, so a restarted instance knows what
 *       happened recently. Partitions added later are picked up within 30 seconds.
 *   <li>A record that does not decode is reported to the sink with its key. It is not dead-lettered from here: every
 *       instance reads every record and replays them on each start, so each would write its own copy. The record
 *       itself stays in its topic.
 * </ul>
 */
public final class BroadcastReader<V extends SpecificRecord> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BroadcastReader.class);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration DISCOVERY = Duration.ofSeconds(30);

  /** Where records go. Called on the reader's thread; must not block for long. */
  public interface Sink<V> {
    void records(List<V> records);

    /** {@code key} is the record's key (a request id), or null when it has none. */
    void unreadable(String key, ConsumerRecord<byte[], byte[]> record, UnreadableRecordException error);
  }

  private final String topic;
  private final AvroSerde<V> serde;
  private final long replayFromMs;
  private final Sink<V> sink;
  private final AssignedReader reader;
  private final Set<TopicPartition> assigned = new HashSet<>();

  public BroadcastReader(Map<String, Object> consumerConfig, Topic<V> topic, Instant replayFrom, Sink<V> sink,
      String threadName) {
    this.topic = topic.name();
    this.serde = topic.valueSerde();
    this.replayFromMs = replayFrom.toEpochMilli();
    this.sink = sink;
    this.reader = new AssignedReader(consumerConfig, this.topic, this::discoverPartitions, DISCOVERY, this::deliver,
        threadName);
  }

  /**
   * Positions on the topic's current partitions before returning, so no record written from now on can be missed,
   * then starts reading. If the topic cannot be seen yet, the thread keeps looking.
   */
  public void start() {
    reader.start();
  }

  /** The thread runs and its last poll succeeded. */
  public boolean healthy() {
    return reader.healthy();
  }

  private void deliver(ConsumerRecords<byte[], byte[]> records) {
    List<V> batch = new ArrayList<>(records.count());
    for (ConsumerRecord<byte[], byte[]> record : records) {
      try {
        batch.add(serde.decode(record.value()));
      } catch (UnreadableRecordException e) {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        sink.unreadable(key, record, e);
      }
    }
    if (!batch.isEmpty()) {
      sink.records(batch);
    }
  }

  /**
   * Assigns partitions not assigned yet and positions each at the first record at or after {@code replayFrom}, or
   * at its end when there is none. The end offsets are read first: a record written between the two lookups is then
   * read, not skipped. Returns whether any partition is assigned.
   */
  private boolean discoverPartitions(Consumer<byte[], byte[]> consumer) {
    Set<TopicPartition> all = new HashSet<>();
    for (PartitionInfo info : consumer.partitionsFor(topic, METADATA_TIMEOUT)) {
      all.add(new TopicPartition(info.topic(), info.partition()));
    }
    Set<TopicPartition> fresh = new HashSet<>(all);
    fresh.removeAll(assigned);
    if (fresh.isEmpty()) {
      return !assigned.isEmpty();
    }
    // assign() keeps the positions of partitions that stay assigned; the fresh ones are positioned below, before
    // the next poll.
    consumer.assign(all);
    Map<TopicPartition, Long> ends = consumer.endOffsets(fresh, METADATA_TIMEOUT);
    Map<TopicPartition, Long> since = new HashMap<>();
    fresh.forEach(tp -> since.put(tp, replayFromMs));
    Map<TopicPartition, OffsetAndTimestamp> byTime = consumer.offsetsForTimes(since, METADATA_TIMEOUT);
    for (TopicPartition tp : fresh) {
      OffsetAndTimestamp first = byTime.get(tp);
      consumer.seek(tp, first != null ? first.offset() : ends.get(tp));
    }
    assigned.addAll(fresh);
    log.debug("reading {} ({} partitions)", topic, assigned.size());
    return true;
  }

  @Override
  public void close() {
    reader.close();
  }
}
