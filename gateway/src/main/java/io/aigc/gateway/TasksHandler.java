package io.aigc.gateway;

import io.aigc.schemas.Tasks;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /v1/tasks}: the named tasks a completion request may ask for ({@link JsonViews#tasks}). */
record TasksHandler(Tasks tasks) implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    Bodies.json(ctx, 200, JsonViews.tasks(tasks));
  }
}
