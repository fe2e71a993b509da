package io.aigc.gateway;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Reading request bodies and writing JSON responses, the same way in every handler. */
final class Bodies {
  static final String JSON = "application/json";

  private Bodies() {}

  /** The request body read by the body handler; empty when there was none. */
  static byte[] bytes(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    return body == null ? new byte[0] : body.getBytes();
  }

  static Future<Void> json(RoutingContext ctx, int status, JsonObject body) {
    return ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", JSON)
        .end(body.encode());
  }
}
