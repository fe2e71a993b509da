package io.aigc.gateway;

import io.aigc.runtime.Tracing;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.Topic;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts a validated request as job {@code id}: checks the pipeline's {@link Backlog}, takes an in-flight slot in
 * the {@link JobStore}, then publishes the {@code GenerationRequest}. Shared by {@code POST /v1/completions} and
 * {@code POST /v1/jobs}: the one place that decides whether the gateway takes on more work. Called on the event
 * loop; its futures complete there.
 */
final class JobSubmitter {
  private static final Logger log = LoggerFactory.getLogger(JobSubmitter.class);

  /** The accepted job; {@code replayed} when it was already known (an {@code Idempotency-Key} retry). */
  record Submitted(JobStore.Job job, boolean replayed) {}

  private final JobStore store;
  private final RecordPublisher publisher;
  private final Topic<GenerationRequest> requests;
  private final GatewayMetrics metrics;
  private final String model;
  private final Clock clock;
  private final Supplier<Backlog.State> backlog;
  private final long maxBacklog;
  private final Tracing tracing;

  /** {@code backlog} gives the last check's answer ({@link Backlog.State#UNKNOWN} when not checked). */
  JobSubmitter(JobStore store, RecordPublisher publisher, Topic<GenerationRequest> requests, GatewayMetrics metrics,
      String model, Clock clock, Supplier<Backlog.State> backlog, long maxBacklog, Tracing tracing) {
    this.store = store;
    this.publisher = publisher;
    this.requests = requests;
    this.metrics = metrics;
    this.model = model;
    this.clock = clock;
    this.backlog = backlog;
    this.maxBacklog = maxBacklog;
    this.tracing = tracing;
  }

  /**
   * Fails with an {@link ApiError}: 429 when the pipeline's backlog is over its bound or every in-flight slot is
   * taken, 409 when {@code id} is known with another request, 503 when the request could not be published (nothing
   * stays pending then). A retry of a job already known is answered whatever the load: it adds no work.
   */
  Future<Submitted> submit(String id, RequestSpec request) {
    return submit(id, request, null);
  }

  /**
   * As {@link #submit(String, RequestSpec)}, for a job whose text is to be streamed to partition
   * {@code streamPartition} of the stream topic (null: the workers send it by request id).
   */
  Future<Submitted> submit(String id, RequestSpec request, Integer streamPartition) {
    return submit(id, request, streamPartition, null);
  }

  /**
   * As {@link #submit(String, RequestSpec, Integer)}, in the trace the caller's {@code traceparent} names (null: a
   * trace of its own), which the request's record carries on.
   */
  Future<Submitted> submit(String id, RequestSpec request, Integer streamPartition, String traceparent) {
    return submit(id, request, streamPartition, traceparent, true);
  }

  /**
   * A batch line: as {@link #submit(String, RequestSpec)} but never refused for the backlog, since the batch's pacer
   * has looked at it already (and keeps well under the bound). It may still fail with 429 when every in-flight slot
   * is taken: the pacer then waits and tries again.
   */
  Future<Submitted> submitPaced(String id, RequestSpec request) {
    return submit(id, request, null, null, false);
  }

  /**
   * A batch line submitted before a restart: registers the job and holds its slot as if it had been published here,
   * without publishing it again, so its completion (read back from the completions topic, or still to come) reaches
   * whoever listens. Fails with 429 when every in-flight slot is taken.
   */
  Future<Submitted> adopt(String id, RequestSpec request) {
    JobStore.Admission admission = store.admit(id, request, clock.instant().truncatedTo(ChronoUnit.MILLIS));
    if (admission instanceof JobStore.Full full) {
      return Future.failedFuture(ApiError.tooManyInFlight(full.limit()));
    }
    if (admission instanceof JobStore.Conflict) {
      return Future.failedFuture(ApiError.idempotencyConflict(id));
    }
    if (admission instanceof JobStore.Existing existing) {
      return Future.succeededFuture(new Submitted(store.find(id).orElse(existing.job()), true));
    }
    store.published(id);
    return Future.succeededFuture(new Submitted(((JobStore.Accepted) admission).job(), true));
  }

  private Future<Submitted> submit(String id, RequestSpec request, Integer streamPartition, String traceparent,
      boolean checkBacklog) {
    Backlog.State pipeline = backlog.get();
    if (checkBacklog && pipeline.overloaded() && store.find(id).isEmpty()) {
      metrics.rejected("backlog");
      return Future.failedFuture(ApiError.backlogFull(pipeline.backlog(), maxBacklog, pipeline.retryAfterSeconds()));
    }
    Instant created = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    JobStore.Admission admission = store.admit(id, request, created);
    if (admission instanceof JobStore.Full full) {
      metrics.rejected("in_flight");
      return Future.failedFuture(ApiError.tooManyInFlight(full.limit()));
    }
    if (admission instanceof JobStore.Conflict) {
      return Future.failedFuture(ApiError.idempotencyConflict(id));
    }
    if (admission instanceof JobStore.Existing existing) {
      // Known already: not published again. If its first submission is still being published, answer with its outcome.
      return Future.fromCompletionStage(existing.published(), Vertx.currentContext())
          .map(v -> new Submitted(store.find(id).orElse(existing.job()), true))
          .recover(e -> Future.failedFuture(ApiError.publishFailed(e)));
    }
    JobStore.Job job = ((JobStore.Accepted) admission).job();
    GenerationRequest event = request.toEvent(id, created, model);
    event.setStreamPartition(streamPartition);
    Tracing.Hop hop = tracing.start("publish " + requests.name(), SpanKind.PRODUCER, traceparent, id, model);
    return publisher.publish(requests, id, event, hop.traceparent())
        .onComplete(published -> {
          if (published.failed()) {
            hop.span().setStatus(StatusCode.ERROR, published.cause().toString());
          }
          hop.end();
        })
        .map(v -> {
          store.published(id);
          metrics.published();
          return new Submitted(store.find(id).orElse(job), false);
        })
        .recover(e -> {
          store.abandon(id, e);
          metrics.publishFailed();
          log.warn("could not publish job {}: {}", id, e.toString());
          return Future.failedFuture(ApiError.publishFailed(e));
        });
  }
}
