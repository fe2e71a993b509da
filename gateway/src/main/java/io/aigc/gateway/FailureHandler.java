package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place errors become responses: an {@link ApiError} a handler threw or failed with, a status Vert.x-Web
 * failed with (404, 405, 413, 415), or an unexpected exception (a 500 that says nothing about the cause).
 */
final class FailureHandler implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(FailureHandler.class);

  private final long maxBodyBytes;

  FailureHandler(long maxBodyBytes) {
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    ApiError error;
    if (failure instanceof ApiError apiError) {
      error = apiError;
    } else if (failure != null) {
      log.error("unexpected failure on {} {}", ctx.request().method(), ctx.normalizedPath(), failure);
      error = ApiError.internal();
    } else {
      error = ApiError.fromHttpStatus(ctx.statusCode(), ctx.request().method().name(), ctx.normalizedPath(),
          maxBodyBytes);
    }
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    if (response.headWritten()) {
      // Too late for an error body: cut the response so the client cannot take it for a complete one.
      response.reset();
      return;
    }
    if (error.retryAfterSeconds() != null) {
      response.putHeader("Retry-After", Integer.toString(error.retryAfterSeconds()));
    }
    if (error.status() == 405 && Routes.allowedMethods(ctx.normalizedPath()) != null) {
      response.putHeader("Allow", Routes.allowedMethods(ctx.normalizedPath()));
    }
    if (ctx.statusCode() == 413) {
      // The rest of the oversized body is not read: the connection cannot carry another request.
      response.putHeader("Connection", "close");
    }
    Bodies.json(ctx, error.status(), JsonViews.error(error));
  }
}
