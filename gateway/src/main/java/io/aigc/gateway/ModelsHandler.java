package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/models} and {@code GET /v1/models/{id}}: the served models in OpenAI's shape; an unknown id is a
 * 404 with code {@code model_not_found}, as OpenAI answers. A model id may contain slashes (Hugging Face names do),
 * so {@code id} is the rest of the path.
 */
record ModelsHandler(ServedModels models) implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    String id = ctx.pathParam(Routes.MODEL_ID);
    if (id == null) {
      Bodies.json(ctx, 200, JsonViews.models(models));
    } else if (models.serves(id)) {
      Bodies.json(ctx, 200, JsonViews.model(models, id));
    } else {
      throw models.notFound(id);
    }
  }
}
