package io.aigc.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * {@code /healthz}, {@code /readyz} and {@code /metrics} (Prometheus text format) for a service without an HTTP
 * server of its own. JDK's built-in server: enough for probes and scrapes, and no dependency.
 */
public final class HealthServer implements AutoCloseable {
  private final HttpServer server;

  private HealthServer(HttpServer server) {
    this.server = server;
  }

  /** Serves where {@code settings} say (port 0 picks a free one), the JVM's own metrics beside the registry's. */
  public static HealthServer start(HealthSettings settings, PrometheusRegistry registry, BooleanSupplier live,
      BooleanSupplier ready) throws IOException {
    int port = settings.port();
    JvmMetrics.builder().register(registry);
    HttpServer server = HttpServer.create(new InetSocketAddress(settings.host(), port), 16);
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "health-" + port);
      t.setDaemon(true);
      return t;
    }));
    ExpositionFormats formats = ExpositionFormats.init();
    server.createContext("/healthz", ex -> status(ex, live.getAsBoolean()));
    server.createContext("/readyz", ex -> status(ex, ready.getAsBoolean()));
    server.createContext("/metrics", ex -> {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      formats.getPrometheusTextFormatWriter().write(body, registry.scrape());
      respond(ex, 200, formats.getPrometheusTextFormatWriter().getContentType(), body.toByteArray());
    });
    server.start();
    return new HealthServer(server);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private static void status(HttpExchange ex, boolean ok) throws IOException {
    byte[] body = (ok ? "{\"status\":\"ok\"}" : "{\"status\":\"unavailable\"}").getBytes(StandardCharsets.UTF_8);
    respond(ex, ok ? 200 : 503, "application/json", body);
  }

  private static void respond(HttpExchange ex, int code, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }
}
