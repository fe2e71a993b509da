package io.aigc.gateway;

import io.aigc.schemas.RequestRules;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Duration;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Wires the routes to their handlers and serves them. Nothing else happens here. */
final class GatewayVerticle extends VerticleBase {
  private final GatewayConfig config;
  private final JobStore store;
  private final JobSubmitter submitter;
  private final RecordPublisher publisher;
  private final StreamFeed streamFeed;
  private final ServedModels models;
  private final GatewayMetrics metrics;
  private final BooleanSupplier ready;
  private final BatchRoutes batchRoutes;
  private final Supplier<Backlog.Lag> lag;
  private final PipelineMonitor monitor;
  private volatile int port = -1;
  /** The playground's files, on the classpath. */
  static final String WEBROOT = "webroot";

  GatewayVerticle(GatewayConfig config, JobStore store, JobSubmitter submitter, RecordPublisher publisher,
      StreamFeed streamFeed, ServedModels models, GatewayMetrics metrics, BooleanSupplier ready,
      BatchRoutes batchRoutes, Supplier<Backlog.Lag> lag, PipelineMonitor monitor) {
    this.config = config;
    this.store = store;
    this.submitter = submitter;
    this.publisher = publisher;
    this.streamFeed = streamFeed;
    this.models = models;
    this.metrics = metrics;
    this.ready = ready;
    this.batchRoutes = batchRoutes;
    this.lag = lag;
    this.monitor = monitor;
  }

  @Override
  public Future<?> start() {
    RequestRules.Limits limits = new RequestRules.Limits(config.maxTokensLimit(), config.maxN());
    CompletionsBody completions = new CompletionsBody(models, limits, config.tasks());
    JobCanceller canceller = new JobCanceller(publisher, config.topics().cancellations());
    EventStream.Setup streams = new EventStream.Setup(streamFeed, store, canceller, config.streamIdleTimeout(),
        metrics);
    JsonCharsetHandler utf8 = new JsonCharsetHandler();
    // Rejects a declared Content-Length over the limit before reading, and stops buffering a chunked body at it.
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.maxBodyBytes());
    Connections connections = new Connections(vertx, metrics);
    FailureHandler failures = new FailureHandler(config.maxBodyBytes(), config.batches().maxFileBytes(), connections);
    String model = models.defaultId();

    Router router = Router.router(vertx);
    router.route().handler(new HttpMetricsHandler(metrics));
    router.route().handler(new PathCheckHandler());
    if (!config.openAccess()) {
      // Before any other /v1/ handler, on the same normalized path the routes match: no path reaches the API
      // without a key, and a caller without one learns nothing about what exists. Probes and /metrics stay open.
      router.route(Routes.API + "*").handler(new ApiKeyHandler(config.apiKeys(),
          new RateLimiter(config.apiKeys().names(), config.rateLimit(), config.rateBurst(), System::nanoTime),
          metrics));
    }
    router.post(Routes.COMPLETIONS).consumes(Bodies.JSON).handler(body).handler(utf8)
        .handler(new CompletionsHandler(completions, ResponseFormat.TEXT, submitter, store, config.syncTimeout(),
            streams, model));
    router.post(Routes.CHAT_COMPLETIONS).consumes(Bodies.JSON).handler(body).handler(utf8)
        .handler(new CompletionsHandler(new ChatCompletionsBody(models, limits), ResponseFormat.CHAT, submitter, store,
            config.syncTimeout(), streams, model));
    router.get(Routes.MODELS).handler(new ModelsHandler(models));
    router.getWithRegex(Routes.MODEL).handler(new ModelsHandler(models));
    router.get(Routes.TASKS).handler(new TasksHandler(config.tasks()));
    router.post(Routes.JOBS).consumes(Bodies.JSON).handler(body).handler(utf8)
        .handler(new SubmitJobHandler(completions, submitter, model));
    router.get(Routes.JOB).handler(new GetJobHandler(store, model));
    router.delete(Routes.JOB).handler(new CancelJobHandler(store, canceller, model));
    batchRoutes.mount(router, body, utf8);
    router.get(Routes.HEALTHZ).handler(new ProbeHandler(() -> true));
    router.get(Routes.READYZ).handler(new ProbeHandler(ready));
    router.get(Routes.METRICS).handler(new MetricsHandler(metrics.registry()));
    router.get(Routes.PIPELINE).handler(new PipelineHandler(lag, monitor::view, config.pipelineInterval(),
        store::inFlight, metrics::streamsOpen));
    // The playground: public, from the jar's webroot/ (index.html at /, its files under /playground/, which a
    // prefix route hands to its handler without the prefix).
    PageHeadersHandler pageHeaders = new PageHeadersHandler();
    router.get(Routes.PAGE).handler(pageHeaders).handler(StaticHandler.create(WEBROOT).setCachingEnabled(false)
        .setIndexPage("index.html"));
    router.get(Routes.PAGE_FILES + "*").handler(pageHeaders).handler(
        StaticHandler.create(WEBROOT + Routes.PAGE_FILES).setCachingEnabled(false));
    router.route().failureHandler(failures);
    // No route matched (wrong path, method or content type): the same error body.
    for (int status : List.of(400, 404, 405, 406, 413, 415, 500)) {
      router.errorHandler(status, failures);
    }

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.httpHost())
        .setPort(config.httpPort())
        .setMaxInitialLineLength(ApiError.MAX_REQUEST_LINE_BYTES)
        .setMaxHeaderSize(ApiError.MAX_HEADER_BYTES)
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, config.httpIdleTimeout().toMillis()))
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    return vertx.createHttpServer(options)
        .connectionHandler(connections)
        .requestHandler(router)
        // What the HTTP decoder cannot read never reaches the router: it gets the same error bodies here.
        .invalidRequestHandler(new InvalidRequestHandler(connections, metrics))
        .listen()
        .onSuccess(server -> {
          this.server = server;
          port = server.actualPort();
        });
  }

  /**
   * Stops taking connections and lets the requests in flight be answered, for up to {@code grace}: each connection
   * closes once its current exchange is done; what still runs then is cut.
   */
  Future<Void> shutdown(Duration grace) {
    return server == null ? Future.succeededFuture() : server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS);
  }

  private volatile HttpServer server;

  /** The bound port (useful when 0 asked for a free one). */
  int port() {
    return port;
  }
}
