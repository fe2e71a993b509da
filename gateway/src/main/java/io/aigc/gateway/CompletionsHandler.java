package io.aigc.gateway;

import io.aigc.runtime.Tracing;
import io.aigc.schemas.Completion;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.StreamEvent;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}, told apart by their body reader and their
 * {@link ResponseFormat}: validates, queues the job, and answers.
 *
 * <ul>
 *   <li>Not streamed: with the job's completion, or with 504 and the job id once {@code AIGC_SYNC_TIMEOUT} has passed
 *       since the request arrived (the job continues; the client can poll {@code GET /v1/jobs/{id}}).
 *   <li>Streamed: as an {@link EventStream}, with no overall time limit (only {@code AIGC_STREAM_IDLE_TIMEOUT}
 *       between events). Its request names this instance's partition of the stream topic, and the stream listens
 *       there before the request is published.
 * </ul>
 * Either way the job holds an in-flight slot until its completion arrives.
 */
record CompletionsHandler(GenerationCall.Reader body, ResponseFormat format, JobSubmitter submitter, JobStore store,
    Duration syncTimeout, EventStream.Setup streams, String servedModel) implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    long arrived = System.nanoTime();
    GenerationCall call = body.read(Bodies.bytes(ctx));
    String caller = ApiKeyHandler.caller(ctx);
    RequestSpec request = call.spec().ownedBy(caller);
    String id = format.newId();
    if (call.stream()) {
      stream(ctx, id, caller, request, call.includeUsage());
      return;
    }
    Wait wait = new Wait(ctx, id, arrived, request);
    wait.listen();
    int partition = streams.feed().partition();
    submitter.submit(id, request, partition < 0 ? null : partition, ctx.request().getHeader(Tracing.HEADER))
        .onSuccess(submitted -> wait.start(submitted.job()))
        .onFailure(e -> wait.settle(() -> ctx.fail(e)));
  }

  /** The model the answer names until the completion says: the one asked for (the body reader fills it in). */
  private String modelOf(RequestSpec request) {
    return request.model() != null ? request.model() : servedModel;
  }

  private void stream(RoutingContext ctx, String id, String caller, RequestSpec request, boolean includeUsage) {
    int partition = streams.feed().partition();
    if (partition < 0) {
      throw ApiError.streamUnavailable();
    }
    EventStream stream = new EventStream(ctx, id, caller, format, modelOf(request), request.sampling().n(),
        includeUsage, streams);
    stream.listen();
    submitter.submit(id, request, partition, ctx.request().getHeader(Tracing.HEADER))
        .onSuccess(submitted -> stream.start(submitted.job()))
        .onFailure(stream::refused);
  }

  /**
   * One request waiting for its job: settled exactly once, by its answer, the timer, or the client leaving. The
   * answer comes from whichever tells it first: the job's stream events, once every choice has ended in them (one
   * hop after the worker, and the same text the completion will carry, since the worker cuts it with the
   * postprocessor's rule), or its completion (the authoritative outcome, two hops and a transaction later).
   */
  private final class Wait {
    private final RoutingContext ctx;
    private final JobWatch watch;
    private final String id;
    private final long arrived;
    private final String model;
    private final boolean logprobs;
    private final StreamAssembly assembly;
    private JobStore.Job job;

    Wait(RoutingContext ctx, String id, long arrived, RequestSpec request) {
      this.ctx = ctx;
      this.watch = new JobWatch(ctx, id);
      this.id = id;
      this.arrived = arrived;
      this.model = modelOf(request);
      this.logprobs = request.sampling().wantsLogprobs();
      this.assembly = new StreamAssembly(request.sampling().n());
    }

    /** Listens for the job's events before its request is published, so that none passes unseen. */
    void listen() {
      watch.listen(streams.feed(), this::onEvents);
    }

    void start(JobStore.Job accepted) {
      if (watch.settled()) {
        return;
      }
      job = accepted;
      // Counted from the request's arrival: queuing it took part of the client's time already.
      long leftMs = syncTimeout.toMillis() - (System.nanoTime() - arrived) / 1_000_000;
      watch.timer(leftMs, () -> settle(() -> ctx.fail(ApiError.syncTimeout(id, syncTimeout))));
      // The client hung up: stop waiting. The job keeps its slot until its completion arrives.
      ctx.response().closeHandler(v -> settle(() -> { }));
      List<StreamEvent> before = watch.start(store, done -> settle(() -> answer(done)));
      if (!before.isEmpty()) {
        onEvents(before);
      }
    }

    private void onEvents(List<StreamEvent> events) {
      if (watch.settled() || watch.holds(events)) {
        return;
      }
      StreamAssembly.Step step = assembly.events(events);
      if (step instanceof StreamAssembly.Failed failed) {
        settle(() -> ctx.fail(ApiError.fromPipeline(id, failed.error())));
      } else if (assembly.allFinished() && assembly.usage() != null) {
        Completion told = assembly.asCompletion(id, job.created().toEpochMilli(), model, logprobs);
        settle(() -> Bodies.json(ctx, 200, format.completion(told, model)));
      }
    }

    private void settle(Runnable outcome) {
      if (watch.settle() && !watch.clientGone()) {
        outcome.run();
      }
    }

    private void answer(JobStore.Job done) {
      if (done.status() == JobStore.Status.DONE) {
        Bodies.json(ctx, 200, format.completion(done.completion(), model));
      } else {
        ctx.fail(ApiError.fromPipeline(id, done.completion().getError()));
      }
    }
  }
}
