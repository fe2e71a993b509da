package io.aigc.worker;

import io.aigc.runtime.BroadcastReader;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.Cancellation;
import io.aigc.schemas.Topic;
import io.aigc.schemas.UnreadableRecordException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs cancelled lately, from the cancellations topic, which every worker reads in full: the job may be in any
 * worker's batch, or still on its way through Kafka to one. A worker drops a cancelled job it runs, and refuses one
 * that arrives after its cancellation.
 */
final class Cancellations implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Cancellations.class);

  private final Map<String, Long> recent;
  private final BroadcastReader<Cancellation> reader;

  /**
   * @param lookback how far back a starting worker reads cancellations (a job queued longer than this before it
   *     reaches a worker is generated despite its cancellation)
   * @param remember at most this many recent cancellations are kept
   * @param onCancel called with each cancelled request id, on the reader's thread
   */
  Cancellations(KafkaSettings kafka, String clientId, Topic<Cancellation> topic, Duration lookback, int remember,
      Consumer<String> onCancel) {
    this.recent = new LinkedHashMap<>(1024, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > remember;
      }
    };
    this.reader = new BroadcastReader<>(kafka.consumer(null, clientId + "-cancellations"), topic,
        Instant.now().minus(lookback), new BroadcastReader.Sink<>() {
          @Override
          public void records(List<Cancellation> cancellations) {
            for (Cancellation c : cancellations) {
              synchronized (recent) {
                recent.put(c.getRequestId(), c.getRequestedAt());
              }
              onCancel.accept(c.getRequestId());
            }
          }

          @Override
          public void unreadable(String key, ConsumerRecord<byte[], byte[]> record, UnreadableRecordException e) {
            log.warn("unreadable cancellation at {}-{}@{} ({}); ignored", record.topic(), record.partition(),
                record.offset(), e.reason().code());
          }
        }, "worker-cancellations");
  }

  void start() {
    reader.start();
  }

  boolean contains(String requestId) {
    synchronized (recent) {
      return recent.containsKey(requestId);
    }
  }

  boolean healthy() {
    return reader.healthy();
  }

  @Override
  public void close() {
    reader.close();
  }
}
