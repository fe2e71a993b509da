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
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every record of a topic, on a thread of its own, for a service of which every instance must see every
 * record: the gateways read every completion (the caller may wait on any instance), the workers every cancellation
 * (the job may run on any of them).
 *
 * <ul>
 *   <li>No consumer group: it {@code assign}s all partitions. Nothing is committed.
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
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(5);
  private static final long DISCOVERY_NANOS = Duration.ofSeconds(30).toNanos();
  private static final long DISCOVERY_WHEN_UNASSIGNED_NANOS = Duration.ofSeconds(1).toNanos();

  /** Where records go. Called on the reader's thread; must not block for long. */
  public interface Sink<V> {
    void records(List<V> records);

    /** {@code key} is the record's key (a request id), or null when it has none. */
    void unreadable(String key, ConsumerRecord<byte[], byte[]> record, UnreadableRecordException error);
  }

  private final Consumer<byte[], byte[]> consumer;
  private final String topic;
  private final AvroSerde<V> serde;
  private final long replayFromMs;
  private final Sink<V> sink;
  private final Thread thread;
  private final Set<TopicPartition> assigned = new HashSet<>();
  private volatile boolean running = true;
  private volatile boolean healthy = true;

  public BroadcastReader(Map<String, Object> consumerConfig, Topic<V> topic, Instant replayFrom, Sink<V> sink,
      String threadName) {
    this.consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.topic = topic.name();
    this.serde = topic.valueSerde();
    this.replayFromMs = replayFrom.toEpochMilli();
    this.sink = sink;
    this.thread = new Thread(this::run, threadName);
    this.thread.setDaemon(true);
  }

  /**
   * Positions on the topic's current partitions before returning, so no record written from now on can be missed,
   * then starts reading. If the topic cannot be seen yet, the thread keeps looking.
   */
  public void start() {
    try {
      discoverPartitions();
    } catch (KafkaException e) {
      log.warn("topic {} not readable yet ({}); will keep trying", topic, e.toString());
    }
    thread.start();
  }

  /** The thread runs and its last poll succeeded. */
  public boolean healthy() {
    return thread.isAlive() && healthy;
  }

  private void run() {
    long nextDiscovery = System.nanoTime();
    try {
      while (running) {
        try {
          if (System.nanoTime() - nextDiscovery >= 0) {
            discoverPartitions();
            nextDiscovery = System.nanoTime()
                + (assigned.isEmpty() ? DISCOVERY_WHEN_UNASSIGNED_NANOS : DISCOVERY_NANOS);
          }
          if (assigned.isEmpty()) {
            // Nothing to poll until the topic exists (polling an empty assignment is an error).
            Thread.sleep(POLL.toMillis());
            continue;
          }
          ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
          healthy = true;
          deliver(records);
        } catch (WakeupException e) {
          // close() asked us to stop; the loop condition says so.
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (KafkaException e) {
          // The client retries connections by itself; what reaches here (authorization, a fenced position) is
          // logged, and the loop tries again rather than leaving the service without the topic's records.
          healthy = false;
          log.warn("reading {} failed; retrying: {}", topic, e.toString());
          nextDiscovery = System.nanoTime() + DISCOVERY_WHEN_UNASSIGNED_NANOS;
        }
      }
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void deliver(ConsumerRecords<byte[], byte[]> records) {
    if (records.isEmpty()) {
      return;
    }
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
   * read, not skipped.
   */
  private void discoverPartitions() {
    Set<TopicPartition> all = new HashSet<>();
    for (PartitionInfo info : consumer.partitionsFor(topic, METADATA_TIMEOUT)) {
      all.add(new TopicPartition(info.topic(), info.partition()));
    }
    Set<TopicPartition> fresh = new HashSet<>(all);
    fresh.removeAll(assigned);
    if (fresh.isEmpty()) {
      return;
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
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    if (thread.isAlive()) {
      try {
        thread.join(Duration.ofSeconds(10).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      // Never started (start() failed before the thread ran): the consumer is still ours to close.
      consumer.close(Duration.ZERO);
    }
  }
}
