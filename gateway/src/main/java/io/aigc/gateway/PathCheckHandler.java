package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses (400) a URL that cannot be decoded, such as a malformed escape in its path ({@code /v1/jobs/%zz}) or its
 * query ({@code ?a=%zz}), before any route tries to match it. Vert.x signals those by throwing from every place that
 * reads the path or the parameters, route matching included, which would otherwise surface as a 500.
 */
final class PathCheckHandler implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    if (Routes.normalizedPath(ctx) == null) {
      throw ApiError.invalid(null, "invalid_path",
          "The request path is not a valid URL path (malformed percent-encoding).");
    }
    try {
      ctx.request().params();
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid(null, "invalid_query",
          "The request's query string is not valid (malformed percent-encoding).");
    }
    ctx.next();
  }
}
