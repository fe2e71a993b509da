package io.aigc.gateway;

import io.aigc.runtime.BroadcastReader;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.Completion;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.Events;
import io.aigc.schemas.GenerationError;
import io.aigc.schemas.Topic;
import io.aigc.schemas.UnreadableRecordException;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way back: completions from the completions topic into the {@link JobStore}, which wakes whoever waits for
 * them (a {@code POST /v1/completions} caller, a {@code GET /v1/jobs/{id}} poll). {@link JobSubmitter} is the way out.
 *
 * <p>Every gateway instance reads every completion: the caller waiting for one may be connected to any instance. On
 * start it reads back the completions of the last {@code AIGC_JOB_RETENTION}, so jobs stay answerable across
 * restarts. A completion that cannot be read still ends its job, with an error: no other completion will come.
 */
final class CompletionFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CompletionFeed.class);

  private final JobStore store;
  private final GatewayMetrics metrics;
  private final BroadcastReader<Completion> reader;

  CompletionFeed(KafkaSettings kafka, String clientId, Topic<Completion> completions, Instant replayFrom,
      JobStore store, GatewayMetrics metrics) {
    this.store = store;
    this.metrics = metrics;
    this.reader = new BroadcastReader<>(kafka.consumer(null, clientId), completions, replayFrom, new Sink(),
        "gateway-completions");
  }

  /** Positions on the topic before returning, so the completion of any job accepted from now on is read. */
  void start() {
    reader.start();
  }

  boolean healthy() {
    return reader.healthy();
  }

  @Override
  public void close() {
    reader.close();
  }

  private final class Sink implements BroadcastReader.Sink<Completion> {
    @Override
    public void records(List<Completion> completions) {
      for (Completion completion : completions) {
        metrics.completion(completion.getStatus());
        if (!store.complete(completion)) {
          metrics.duplicateCompletion();
          log.debug("duplicate completion for {} ignored; the first one stands", completion.getRequestId());
        }
      }
    }

    @Override
    public void unreadable(String requestId, ConsumerRecord<byte[], byte[]> record, UnreadableRecordException e) {
      metrics.unreadableCompletion();
      String where = record.topic() + "-" + record.partition() + "@" + record.offset();
      log.warn("unreadable completion at {} for request {} ({}): {}", where, requestId, e.reason().code(),
          e.getMessage());
      if (requestId == null || requestId.isEmpty()) {
        return;
      }
      // Its one completion cannot be read, so no other will come: the caller gets an error, not a timeout.
      Instant now = Instant.now();
      store.complete(Events.failedCompletion(requestId, null,
          record.timestamp() >= 0 ? Instant.ofEpochMilli(record.timestamp()) : now, null,
          new GenerationError(ErrorCodes.INTERNAL_ERROR, "The completion of this request could not be read ("
              + e.reason().code() + "); it is kept at " + where + "."), null, now));
    }
  }
}
