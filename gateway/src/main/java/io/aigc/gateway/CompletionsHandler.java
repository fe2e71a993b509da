package io.aigc.gateway;

import io.aigc.schemas.RequestSpec;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;

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
    submitter.submit(id, request)
        .onSuccess(submitted -> new Wait(ctx, id, arrived).start())
        .onFailure(ctx::fail);
  }

  private void stream(RoutingContext ctx, String id, String caller, RequestSpec request, boolean includeUsage) {
    int partition = streams.feed().partition();
    if (partition < 0) {
      throw ApiError.streamUnavailable();
    }
    EventStream stream = new EventStream(ctx, id, caller, format, servedModel, request.n(), includeUsage, streams);
    stream.listen();
    submitter.submit(id, request, partition)
        .onSuccess(submitted -> stream.start(submitted.job()))
        .onFailure(stream::refused);
  }

  /** One request waiting for its job: settled exactly once, by the completion, the timer, or the client leaving. */
  private final class Wait {
    private final RoutingContext ctx;
    private final String id;
    private final long arrived;
    private boolean settled;
    private long timer;
    private Runnable stopListening = () -> { };

    Wait(RoutingContext ctx, String id, long arrived) {
      this.ctx = ctx;
      this.id = id;
      this.arrived = arrived;
    }

    void start() {
      Context context = ctx.vertx().getOrCreateContext();
      // Counted from the request's arrival: queuing it took part of the client's time already.
      long leftMs = syncTimeout.toMillis() - (System.nanoTime() - arrived) / 1_000_000;
      timer = ctx.vertx().setTimer(Math.max(1, leftMs),
          t -> settle(() -> ctx.fail(ApiError.syncTimeout(id, syncTimeout))));
      // The client hung up: stop waiting. The job keeps its slot until its completion arrives.
      ctx.response().closeHandler(v -> settle(() -> { }));
      // The completion arrives on the consumer's thread: answer on this request's context.
      stopListening = store.onCompletion(id, job -> context.runOnContext(v -> settle(() -> answer(job))));
    }

    private void settle(Runnable outcome) {
      if (settled) {
        return;
      }
      settled = true;
      ctx.vertx().cancelTimer(timer);
      stopListening.run();
      outcome.run();
    }

    private void answer(JobStore.Job job) {
      if (job.status() == JobStore.Status.DONE) {
        Bodies.json(ctx, 200, format.completion(job.completion(), servedModel));
      } else {
        ctx.fail(ApiError.fromPipeline(id, job.completion().getError()));
      }
    }
  }
}
