package io.aigc.runtime.streams;

import io.aigc.runtime.DeadLetters;
import io.aigc.runtime.Tracing;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.DeadLetterReason;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.Topic;
import io.aigc.schemas.UnreadableRecordException;
import io.opentelemetry.api.trace.SpanKind;
import io.prometheus.metrics.core.metrics.Counter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a topic's raw bytes and hands each decoded record to a {@link RecordHandler}, so that nothing a record can
 * cause stops its partition: whatever cannot be decoded, is rejected, or makes the handler fail becomes a dead
 * letter (with the record's topic, partition, offset and bytes), and its caller an error outcome, in the same
 * exactly-once transaction as everything else the record produced.
 *
 * <ul>
 *   <li>Bytes that are not a readable record: dead letter with the decoder's reason ({@code not_avro},
 *       {@code unknown_schema}); error {@code poison_record}.
 *   <li>{@link RejectedRecordException}: dead letter with its reason; error with its code.
 *   <li>Any other exception: dead letter {@code processing_error}; error {@code internal_error}.
 * </ul>
 *
 * <p>The caller is the record's key, or when the key is empty the request id inside the value; a record without
 * either is dead-lettered only, since nobody could be waiting for it.
 */
public final class GuardedProcessor<V extends SpecificRecord> implements Processor<String, byte[], String, Routed> {
  private static final Logger log = LoggerFactory.getLogger(GuardedProcessor.class);

  private final String service;
  private final Topic<V> source;
  private final Topic<DeadLetter> dlq;
  private final Counter deadLetters;
  private final RecordHandler<V> handler;
  private ProcessorContext<String, Routed> context;
  private Tracing tracing;

  private GuardedProcessor(String service, Topic<V> source, Topic<DeadLetter> dlq, Counter deadLetters,
      RecordHandler<V> handler) {
    this.service = service;
    this.source = source;
    this.dlq = dlq;
    this.deadLetters = deadLetters;
    this.handler = handler;
  }

  /**
   * A processor per stream task, each with a handler of its own.
   *
   * @param service names the service in the dead letters it writes
   * @param source the topic read, for its serde
   * @param deadLetters a counter labelled by service and dead-letter reason code ({@code aigc_dead_letters_total})
   */
  public static <V extends SpecificRecord> ProcessorSupplier<String, byte[], String, Routed> supplier(String service,
      Topic<V> source, Topic<DeadLetter> dlq, Counter deadLetters, Supplier<? extends RecordHandler<V>> handlers) {
    return () -> new GuardedProcessor<>(service, source, dlq, deadLetters, handlers.get());
  }

  @Override
  public void init(ProcessorContext<String, Routed> context) {
    this.context = context;
    this.tracing = Tracing.fromConfigs(context.appConfigs());
    handler.init(context);
  }

  @Override
  public void process(Record<String, byte[]> record) {
    String key = record.key() == null ? "" : record.key();
    // The record's trace goes on with whatever it becomes (forward keeps the input's headers); a record that came
    // without one starts it here.
    Tracing.Hop hop = tracing.start("process " + source.name(), SpanKind.CONSUMER, record.headers(),
        key.isEmpty() ? null : key, null);
    if (Tracing.read(record.headers()) == null) {
      hop.onto(record.headers());
    }
    try {
      guarded(record, key);
    } finally {
      hop.end();
    }
  }

  private void guarded(Record<String, byte[]> record, String key) {
    Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
    V value;
    try {
      value = source.valueSerde().decode(record.value());
    } catch (UnreadableRecordException e) {
      deadLetter(record, key, null, e.reason(), ErrorCodes.POISON_RECORD, e.getMessage(), now);
      return;
    }
    List<Routed> outcomes;
    try {
      outcomes = handler.handle(key, value, now);
    } catch (RejectedRecordException e) {
      deadLetter(record, key, value, e.reason(), e.errorCode(), e.getMessage(), now);
      return;
    } catch (RuntimeException e) {
      // A bug or a broken dependency, not the caller's fault: the stack trace goes to the log, the record aside.
      log.error("{}: failed on {}, dead-lettering it", service, where(), e);
      deadLetter(record, key, value, DeadLetterReason.PROCESSING_ERROR, ErrorCodes.INTERNAL_ERROR,
          "processing failed: " + e, now);
      return;
    }
    forward(record, outcomes);
  }

  private void deadLetter(Record<String, byte[]> record, String key, V value, DeadLetterReason reason, String code,
      String message, Instant now) {
    String caller = !key.isEmpty() ? key : value == null ? "" : nullToEmpty(handler.requestId(value));
    RecordMetadata meta = context.recordMetadata().orElse(null);
    DeadLetters.Source from = new DeadLetters.Source(meta == null ? source.name() : meta.topic(),
        meta == null ? -1 : meta.partition(), meta == null ? -1 : meta.offset(), record.timestamp(),
        record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8), record.value());

    List<Routed> outcomes = new ArrayList<>();
    outcomes.add(Routed.to(dlq, caller.isEmpty() ? null : caller,
        DeadLetters.of(service, from, reason, message, caller)));
    if (!caller.isEmpty()) {
      try {
        outcomes.addAll(handler.reject(caller, value, code, message, now));
      } catch (RuntimeException e) {
        // The dead letter still goes out: the record is kept, and the log says whose answer is missing.
        log.error("{}: cannot build the error outcome for request {}", service, caller, e);
      }
    }
    deadLetters.labelValues(service, reason.code()).inc();
    forward(record, outcomes);
  }

  private void forward(Record<String, byte[]> record, List<Routed> outcomes) {
    for (Routed outcome : outcomes) {
      // The input's timestamp and headers (a trace context, say) travel on with every outcome.
      context.forward(record.withKey(outcome.key()).withValue(outcome));
    }
  }

  private String where() {
    return context.recordMetadata().map(m -> m.topic() + "-" + m.partition() + "@" + m.offset()).orElse("a record");
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  @Override
  public void close() {
    handler.close();
  }
}
