package io.aigc.gateway;

import io.aigc.runtime.Tracing;
import io.aigc.schemas.Topic;
import org.apache.avro.specific.SpecificRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Puts records on Kafka (requests, and cancellations), keyed by request id, and tells the caller on its own Vert.x
 * context once the broker has them. One producer of bytes serves every topic; each record is encoded with its
 * topic's serde.
 *
 * <p>Why {@code send} runs on a worker thread: it returns at once while the topic's metadata is cached, but blocks
 * up to {@code max.block.ms} when it is not (first use, a broker outage, or a topic idle past
 * {@code metadata.max.idle.ms}) or when the producer's buffer is full. Warming the metadata at start covers only the
 * first case, so no {@code send} ever runs on the event loop. {@code max.block.ms} and {@code delivery.timeout.ms}
 * are both bounded by {@code AIGC_PUBLISH_TIMEOUT}, so a caller learns of a failure in bounded time.
 */
final class RecordPublisher {
  private final Vertx vertx;
  private final Producer<String, byte[]> producer;

  RecordPublisher(Vertx vertx, Producer<String, byte[]> producer) {
    this.vertx = vertx;
    this.producer = producer;
  }

  /** Completes on the calling context when the record is acknowledged by all in-sync replicas, or fails. */
  <V extends SpecificRecord> Future<Void> publish(Topic<V> topic, String key, V value) {
    return publish(topic, key, value, null);
  }

  /** As {@link #publish(Topic, String, SpecificRecord)}, carrying the request's trace context (when not null). */
  <V extends SpecificRecord> Future<Void> publish(Topic<V> topic, String key, V value, String traceparent) {
    Context context = vertx.getOrCreateContext();
    Promise<Void> acked = Promise.promise();
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic.name(), key, topic.valueSerde().encode(value));
    Tracing.write(record.headers(), traceparent);
    vertx.executeBlocking(() -> producer.send(record, (metadata, error) -> context.runOnContext(v -> {
      if (error == null) {
        acked.tryComplete();
      } else {
        acked.tryFail(error);
      }
    })), false).onFailure(acked::tryFail);
    return acked.future();
  }
}
