package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code DELETE /v1/jobs/{id}}: asks the workers to stop a queued or running job. 202 once the cancellation is on
 * Kafka; the job then finishes as {@code cancelled} (its batch slot freed), unless it completed first. 404 for an
 * unknown job or another caller's, 409 for a job that has already finished.
 */
record CancelJobHandler(JobStore store, JobCanceller canceller, String servedModel)
    implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String caller = ApiKeyHandler.caller(ctx);
    JobStore.Job job = store.find(id, caller).orElseThrow(() -> ApiError.jobNotFound(id));
    if (job.status() != JobStore.Status.QUEUED) {
      throw ApiError.jobFinished(id);
    }
    canceller.cancel(id, caller)
        .onSuccess(v -> Bodies.json(ctx, 202, JsonViews.cancelling(job, servedModel)))
        .onFailure(e -> ctx.fail(ApiError.publishFailed(e)));
  }
}
