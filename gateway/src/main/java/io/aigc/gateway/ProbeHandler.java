package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.BooleanSupplier;

/**
 * {@code /healthz} and {@code /readyz}: 200 or 503 with the same body as every other service's probes. The answer
 * is read from a flag kept up to date elsewhere, never computed on the event loop.
 */
record ProbeHandler(BooleanSupplier ok) implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    boolean up = ok.getAsBoolean();
    Bodies.json(ctx, up ? 200 : 503, new JsonObject().put("status", up ? "ok" : "unavailable"));
  }
}
