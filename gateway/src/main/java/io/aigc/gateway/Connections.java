package io.aigc.gateway;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import java.util.HashMap;
import java.util.Map;

/**
 * The HTTP server's connections: counted for {@code aigc_gateway_http_connections}, and closed a moment after an
 * answer that ends them.
 *
 * <p>Why a moment after: closing a socket with unread input makes the kernel send a reset, which can destroy the
 * answer in the client's buffers before it is read. So the connection stays open {@value #LINGER_MS} ms more while
 * the server reads and drops what the client still sends (Apache's "lingering close"). A connection the client
 * closes first is forgotten at once: a flood of such requests cannot pile up connections waiting for their timer.
 *
 * <p>Used on the server's event loop only.
 */
final class Connections implements Handler<HttpConnection> {
  static final long LINGER_MS = 500;

  private final Vertx vertx;
  private final GatewayMetrics metrics;
  private final Map<HttpConnection, Long> lingering = new HashMap<>();

  Connections(Vertx vertx, GatewayMetrics metrics) {
    this.vertx = vertx;
    this.metrics = metrics;
  }

  /** A new connection. */
  @Override
  public void handle(HttpConnection connection) {
    metrics.connectionOpened();
    connection.closeHandler(v -> {
      metrics.connectionClosed();
      Long timer = lingering.remove(connection);
      if (timer != null) {
        vertx.cancelTimer(timer);
      }
    });
  }

  /** Closes {@code connection} {@link #LINGER_MS} after {@code answered} completes, unless the client does first. */
  void closeAfter(Future<Void> answered, HttpConnection connection) {
    answered.onComplete(done -> lingering.computeIfAbsent(connection, c -> vertx.setTimer(LINGER_MS, t -> {
      lingering.remove(c);
      c.close();
    })));
  }
}
