package io.aigc.gateway;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.VertxConnection;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place errors become responses: an {@link ApiError} a handler threw or failed with, a status Vert.x-Web
 * failed with (404, 405, 413, 415), a request Vert.x could not read (a 400), or an unexpected exception (a 500 that
 * says nothing about the cause).
 *
 * @param maxFileBytes the body limit of uploads to {@link Routes#FILES}, where a 413 quotes it instead of
 *     {@code maxBodyBytes}
 */
record FailureHandler(long maxBodyBytes, long maxFileBytes, Connections connections)
    implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(FailureHandler.class);

  @Override
  public void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    HttpServerResponse response = ctx.response();
    if (response.closed()) {
      // The client left (or idled out) mid-request: nobody to answer, and nothing of ours went wrong.
      log.debug("connection closed during {} {}: {}", ctx.request().method(), Routes.normalizedPath(ctx),
          String.valueOf(failure));
      return;
    }
    ApiError error;
    String path = Routes.normalizedPath(ctx);
    boolean undecodable = failure != null && thrownByTheHttpDecoder(failure);
    if (failure instanceof ApiError apiError) {
      error = apiError;
    } else if (undecodable) {
      // The client's garbage, not our bug: no stack trace for anyone who can send bytes to fill the log with.
      log.debug("undecodable request on {} {}: {}", ctx.request().method(), path, failure.toString());
      error = ApiError.invalid(null, "bad_request", "The request could not be read: "
          + (failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage()) + ".");
    } else if (failure != null && missingHost(ctx.request())) {
      // Vert.x refuses such a request by failing it, not by status.
      error = ApiError.invalid(null, "bad_request", "An HTTP/1.1 request must have a Host header.");
    } else if (failure != null) {
      log.error("unexpected failure on {} {}", ctx.request().method(), path, failure);
      error = ApiError.internal();
    } else {
      error = ApiError.fromHttpStatus(ctx.statusCode(), ctx.request().method().name(), path,
          Routes.FILES.equals(path) ? maxFileBytes : maxBodyBytes);
    }
    if (response.ended()) {
      return;
    }
    if (response.headWritten()) {
      // Too late for an error body: cut the response so the client cannot take it for a complete one.
      response.reset();
      return;
    }
    if (error.status() == 401) {
      // RFC 6750: a 401 names the scheme the client should use.
      response.putHeader("WWW-Authenticate", "Bearer");
    }
    error.retryAfterSeconds().ifPresent(seconds -> response.putHeader("Retry-After", Integer.toString(seconds)));
    if (error.status() == 405 && Routes.allowedMethods(path) != null) {
      response.putHeader("Allow", Routes.allowedMethods(path));
    }
    // HTTP/1.x: the rest of the body is not wanted (or cannot be read), so the connection carries no other request.
    // HTTP/2 multiplexes other requests on the connection: the answer ends this stream only (RFC 9113 8.1).
    boolean closing = (ctx.statusCode() == 413 || undecodable) && ctx.request().version() != HttpVersion.HTTP_2;
    if (closing) {
      response.putHeader("Connection", "close");
    }
    Future<Void> answered = Bodies.json(ctx, error.status(), JsonViews.error(error));
    if (closing) {
      connections.closeAfter(answered, ctx.request().connection());
    }
    if (undecodable && ctx.request().connection() instanceof VertxConnection connection) {
      // A decoder failure: Vert.x closes the connection as soon as this returns, and writes made while it reads
      // are flushed only when the read completes, so the answer would be dropped. Flush it now. (An internal
      // class of Vert.x: if it moves, the connection still closes, only without the answer.)
      connection.flush();
    }
  }

  /**
   * A body whose framing the HTTP decoder rejects (a chunk size that is not hex, say) reaches us as the exception
   * the decoder threw, not as a status; Vert.x closes the connection after it. Thrown inside the codec, it is the
   * request's fault: our own handlers never run there.
   */
  private static boolean thrownByTheHttpDecoder(Throwable failure) {
    StackTraceElement[] thrownAt = failure.getStackTrace();
    return thrownAt.length > 0 && thrownAt[0].getClassName().startsWith("io.netty.handler.codec.");
  }

  private static boolean missingHost(HttpServerRequest request) {
    return request.version() == HttpVersion.HTTP_1_1 && request.getHeader("Host") == null;
  }
}
