package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/** Counts and times every HTTP exchange, labelled by route template (never the raw path: job ids are unbounded). */
record HttpMetricsHandler(GatewayMetrics metrics) implements Handler<RoutingContext> {
  private static final Set<HttpMethod> KNOWN_METHODS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST,
      HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH, HttpMethod.OPTIONS);

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    String route = Routes.template(Routes.normalizedPath(ctx));
    String method = KNOWN_METHODS.contains(ctx.request().method()) ? ctx.request().method().name() : "OTHER";
    ctx.addBodyEndHandler(v ->
        metrics.http(route, method, ctx.response().getStatusCode(), System.nanoTime() - start));
    ctx.next();
  }
}
