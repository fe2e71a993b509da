package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/jobs/{id}}: the job's status, with its completion or error once it has one; 404 if unknown, or if
 * another API key created it (answered exactly as an unknown job, so existence does not leak).
 */
record GetJobHandler(JobStore store, String servedModel) implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JobStore.Job job = store.find(id, ApiKeyHandler.caller(ctx)).orElseThrow(() -> ApiError.jobNotFound(id));
    Bodies.json(ctx, 200, JsonViews.job(job, servedModel));
  }
}
