package io.aigc.gateway;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Wires the routes to their handlers and serves them. Nothing else happens here. */
final class GatewayVerticle extends VerticleBase {
  private final GatewayConfig config;
  private final JobStore store;
  private final JobSubmitter submitter;
  private final GatewayMetrics metrics;
  private final BooleanSupplier ready;
  private volatile int port = -1;

  GatewayVerticle(GatewayConfig config, JobStore store, JobSubmitter submitter, GatewayMetrics metrics,
      BooleanSupplier ready) {
    this.config = config;
    this.store = store;
    this.submitter = submitter;
    this.metrics = metrics;
    this.ready = ready;
  }

  @Override
  public Future<?> start() {
    RequestValidator validator = new RequestValidator(config.modelName(), config.maxTokensLimit(), config.maxN());
    // Rejects a declared Content-Length over the limit before reading, and stops buffering a chunked body at it.
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.maxBodyBytes());
    FailureHandler failures = new FailureHandler(config.maxBodyBytes());
    String model = config.modelName();

    Router router = Router.router(vertx);
    router.route().handler(new HttpMetricsHandler(metrics));
    router.post(Routes.COMPLETIONS).consumes(Bodies.JSON).handler(body)
        .handler(new CompletionsHandler(validator, submitter, store, config.syncTimeout(), model));
    router.post(Routes.JOBS).consumes(Bodies.JSON).handler(body)
        .handler(new SubmitJobHandler(validator, submitter, model));
    router.get(Routes.JOB).handler(new GetJobHandler(store, model));
    router.get(Routes.HEALTHZ).handler(new ProbeHandler(() -> true));
    router.get(Routes.READYZ).handler(new ProbeHandler(ready));
    router.get(Routes.METRICS).handler(new MetricsHandler(metrics.registry()));
    router.route().failureHandler(failures);
    // No route matched (wrong path, method or content type): the same error body.
    for (int status : List.of(400, 404, 405, 406, 413, 415, 500)) {
      router.errorHandler(status, failures);
    }

    return vertx.createHttpServer(new HttpServerOptions().setHost(config.httpHost()).setPort(config.httpPort()))
        .requestHandler(router)
        .listen()
        .onSuccess(server -> port = server.actualPort());
  }

  /** The bound port (useful when 0 asked for a free one). */
  int port() {
    return port;
  }
}
