package io.aigc.gateway;

import io.aigc.runtime.AssignedReader;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.StreamEvent;
import io.aigc.schemas.Topic;
import io.aigc.schemas.UnreadableRecordException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way back for streams: the text of this instance's streamed jobs as the workers generate it, from the stream
 * topic to the {@link EventStream} of each, beside {@link CompletionFeed} (the completions) and {@link JobSubmitter}
 * (the way out).
 *
 * <p>Each instance reads one partition of the stream topic, and names it in the requests it streams
 * ({@code stream_partition}), so the workers send their text there: an instance reads its own clients' events
 * only, and adding instances does not multiply what each one reads. The partition is {@code AIGC_STREAM_PARTITION}
 * when set, else a hash of the instance's random id: two instances may then share a partition, which costs each
 * the other's events (read and dropped by key, undecoded), never a wrong answer.
 *
 * <p>One consumer without a group ({@code assign}), positioned at the partition's end on start: a stream begins
 * after its request is published, and a listener is registered before that, so nothing older is wanted. Events go
 * to listeners by request id through a concurrent map, not through the {@link JobStore}'s lock: they come at token
 * rate. Listeners are called on the consumer's thread, with the events of one poll for their request at once, and
 * must hop to their own context.
 */
final class StreamFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamFeed.class);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(5);
  /** The partition never changes once chosen; this only bounds how often that is looked at. */
  private static final Duration RECHECK = Duration.ofSeconds(30);

  /** Receives one request's events, in the order they were written. Called on the feed's thread. */
  interface Listener {
    void events(List<StreamEvent> events);
  }

  private final String topic;
  private final AvroSerde<StreamEvent> serde;
  private final Integer configuredPartition;
  private final String instance;
  private final GatewayMetrics metrics;
  private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
  private final AssignedReader reader;
  private volatile int partition = -1;

  /**
   * @param configuredPartition {@code AIGC_STREAM_PARTITION}, or null to pick one from {@code instance}
   * @param instance this instance's id, hashed to pick a partition when none is configured
   */
  StreamFeed(KafkaSettings kafka, String clientId, Topic<StreamEvent> topic, Integer configuredPartition,
      String instance, GatewayMetrics metrics) {
    this.topic = topic.name();
    this.serde = topic.valueSerde();
    this.configuredPartition = configuredPartition;
    this.instance = instance;
    this.metrics = metrics;
    this.reader = new AssignedReader(kafka.consumer(null, clientId), this.topic,
        consumer -> partition >= 0 || assign(consumer), RECHECK, this::deliver, "gateway-stream");
  }

  /**
   * Positions on this instance's partition before returning, so every event written from now on is read. If the
   * topic cannot be seen yet, the thread keeps looking and streamed requests are refused meanwhile (503). Throws
   * {@link IllegalArgumentException} when {@code AIGC_STREAM_PARTITION} names a partition the topic does not have.
   */
  void start() {
    reader.start();
  }

  /** The partition this instance reads and names in its streamed requests; -1 while it cannot read one. */
  int partition() {
    return partition;
  }

  boolean healthy() {
    return reader.healthy();
  }

  /**
   * Sends {@code requestId}'s events to {@code listener} from now on; returns what stops it. Register before the
   * request is published, so its first events cannot pass before anyone listens.
   */
  Runnable listen(String requestId, Listener listener) {
    listeners.put(requestId, listener);
    return () -> listeners.remove(requestId, listener);
  }

  /** Requests listened to now. */
  int listening() {
    return listeners.size();
  }

  /** Assigns this instance's partition at its end; false when the topic is not there yet. */
  private boolean assign(Consumer<byte[], byte[]> consumer) {
    List<PartitionInfo> partitions = consumer.partitionsFor(topic, METADATA_TIMEOUT);
    if (partitions == null || partitions.isEmpty()) {
      return false;
    }
    int count = partitions.size();
    int chosen = configuredPartition != null ? configuredPartition : Math.floorMod(instance.hashCode(), count);
    if (chosen >= count) {
      throw new IllegalArgumentException("AIGC_STREAM_PARTITION is " + chosen + ", but stream topic " + topic
          + " has " + count + " partitions (0 to " + (count - 1) + "); streamed requests are refused");
    }
    TopicPartition tp = new TopicPartition(topic, chosen);
    consumer.assign(List.of(tp));
    consumer.seekToEnd(List.of(tp));
    // seekToEnd is lazy: look the end up now, or events written before the first poll would be skipped.
    consumer.position(tp, METADATA_TIMEOUT);
    partition = chosen;
    log.info("reading streamed text from {}-{} ({} partitions)", topic, chosen, count);
    return true;
  }

  private void deliver(ConsumerRecords<byte[], byte[]> records) {
    Map<String, List<StreamEvent>> byRequest = new HashMap<>();
    int unclaimed = 0;
    for (ConsumerRecord<byte[], byte[]> record : records) {
      String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
      // Another instance's job (on a shared partition), or one that has ended here: not even decoded.
      if (key == null || !listeners.containsKey(key)) {
        unclaimed++;
        continue;
      }
      try {
        byRequest.computeIfAbsent(key, k -> new ArrayList<>()).add(serde.decode(record.value()));
      } catch (UnreadableRecordException e) {
        // Its stream misses a piece; the completion will make up for it (EventStream fills gaps from it).
        log.warn("unreadable stream event at {}-{}@{} for request {} ({}): {}", record.topic(), record.partition(),
            record.offset(), key, e.reason().code(), e.getMessage());
      }
    }
    metrics.streamEventsRead(records.count(), unclaimed);
    byRequest.forEach((id, events) -> {
      Listener listener = listeners.get(id);
      if (listener != null) {
        listener.events(events);
      }
    });
  }

  @Override
  public void close() {
    reader.close();
  }
}
