package io.aigc.runtime.streams;

import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.processor.api.ProcessingContext;

/**
 * What a service does with one decoded record, run by {@link GuardedProcessor}, which keeps the dead letters and
 * the failures out of the handler's way. One handler per stream task, so it may keep the task's state stores.
 *
 * @param <V> the type of the source topic's values
 */
public interface RecordHandler<V> {
  /** Called once before the first record: the place to look up state stores and schedule punctuators. */
  default void init(ProcessingContext context) {}

  /** The request id {@code value} carries, used to answer its caller when the record's key is empty. */
  String requestId(V value);

  /**
   * The records {@code value} becomes, built completely before returning so that a failure leaves nothing half
   * done. Throw {@link RejectedRecordException} for a value that is out of range; any other exception
   * dead-letters the record as {@code processing_error} and answers its caller with {@code internal_error}.
   *
   * @param key the record's key, the request id; empty (never null) when the record had none
   * @param now the wall-clock time of this processing (mockable in {@code TopologyTestDriver})
   */
  List<Routed> handle(String key, V value, Instant now);

  /**
   * The error outcome that tells {@code requestId}'s caller its record was dead-lettered: the records to write,
   * or none when the caller has already been answered.
   *
   * @param value the decoded record, or null when the bytes could not be read
   * @param code one of {@link io.aigc.schemas.ErrorCodes}
   */
  List<Routed> reject(String requestId, V value, String code, String message, Instant now);

  /** Called when the task closes. */
  default void close() {}
}
