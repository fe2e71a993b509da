package io.aigc.gateway;

import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;

/** {@code GET /metrics}: the service's registry in Prometheus text format, scraped on a worker thread. */
record MetricsHandler(PrometheusRegistry registry) implements Handler<RoutingContext> {
  private static final PrometheusTextFormatWriter WRITER = ExpositionFormats.init().getPrometheusTextFormatWriter();

  @Override
  public void handle(RoutingContext ctx) {
    // The JVM collectors call into MXBeans: cheap, but not the event loop's business.
    ctx.vertx().executeBlocking(() -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      WRITER.write(out, registry.scrape());
      return Buffer.buffer(out.toByteArray());
    }, false).onSuccess(body -> ctx.response()
        .putHeader("Content-Type", WRITER.getContentType())
        .end(body))
        .onFailure(ctx::fail);
  }
}
