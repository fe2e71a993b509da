package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Who answers {@code /v1/files} and {@code /v1/batches}: this gateway, from its data folder ({@link BatchApi}), or
 * the one gateway that holds them, to which this one forwards ({@link BatchForwarding}).
 */
interface BatchRoutes {
  /** Wires the routes on {@code router}; {@code json} reads a JSON body, {@code utf8} checks its charset. */
  void mount(Router router, Handler<RoutingContext> json, Handler<RoutingContext> utf8);
}
