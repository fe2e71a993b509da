package io.aigc.gateway;

import io.aigc.runtime.Tracing;
import io.aigc.schemas.RequestSpec;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /v1/jobs}: validates, queues the job and answers 202 at once. With an {@code Idempotency-Key} the job
 * id derives from the key and the caller's key name, so a retry (on any instance) names the same job; this
 * instance answers a retry from what it knows without publishing again, and a different body under the same key
 * with 409. A job is read back with {@code GET /v1/jobs/{id}}, not streamed: {@code "stream": true} is refused.
 */
record SubmitJobHandler(CompletionsBody body, JobSubmitter submitter, String servedModel)
    implements Handler<RoutingContext> {
  static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  @Override
  public void handle(RoutingContext ctx) {
    String caller = ApiKeyHandler.caller(ctx);
    String key = ctx.request().getHeader(IDEMPOTENCY_KEY);
    String id = key == null ? JobIds.random() : JobIds.fromIdempotencyKey(caller, JobIds.checkIdempotencyKey(key));
    GenerationCall call = body.read(Bodies.bytes(ctx));
    if (call.stream()) {
      throw CompletionsBody.unsupported("stream", "A job is not streamed: poll GET /v1/jobs/{id} for its "
          + "completion, or send \"stream\": true to POST /v1/completions.");
    }
    RequestSpec request = call.spec().ownedBy(caller);
    submitter.submit(id, request, null, ctx.request().getHeader(Tracing.HEADER))
        .onSuccess(submitted -> {
          ctx.response().putHeader("Location", "/v1/jobs/" + id);
          if (submitted.replayed()) {
            ctx.response().putHeader("Idempotent-Replayed", "true");
          }
          Bodies.json(ctx, 202, JsonViews.job(submitted.job(), request.model() != null ? request.model() : servedModel));
        })
        .onFailure(ctx::fail);
  }
}
