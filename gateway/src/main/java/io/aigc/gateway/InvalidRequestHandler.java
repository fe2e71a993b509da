package io.aigc.gateway;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * A request the HTTP decoder could not read (a request line over {@value ApiError#MAX_REQUEST_LINE_BYTES} bytes,
 * headers over {@value ApiError#MAX_HEADER_BYTES}, or no HTTP at all). It never reaches the router, so it gets the
 * same error body here instead of Vert.x's empty one, and the connection is closed: after a message it could not
 * read, the decoder cannot know where the next one starts.
 */
record InvalidRequestHandler(Connections connections, GatewayMetrics metrics) implements Handler<HttpServerRequest> {
  @Override
  public void handle(HttpServerRequest request) {
    long start = System.nanoTime();
    Throwable cause = request.decoderResult().cause();
    int status = cause instanceof TooLongHttpLineException ? 414
        : cause instanceof TooLongHttpHeaderException ? 431
        : 400;
    // What the decoder made of the method and path may be garbage: none of it goes into the answer.
    ApiError error = ApiError.fromHttpStatus(status, "", "", 0);
    HttpServerResponse response = request.response();
    Future<Void> answered = response.setStatusCode(error.status())
        .putHeader("Content-Type", Bodies.JSON)
        .putHeader("Connection", "close")
        .end(JsonViews.error(error).encode())
        .onComplete(done -> metrics.http("other", "OTHER", error.status(), System.nanoTime() - start));
    // The decoder drops whatever else arrives meanwhile.
    connections.closeAfter(answered, request.connection());
  }
}
