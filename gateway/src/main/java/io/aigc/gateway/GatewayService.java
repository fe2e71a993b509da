package io.aigc.gateway;

import static io.aigc.runtime.Closeables.closing;

import io.aigc.runtime.Closeables;
import io.aigc.runtime.Service;
import io.aigc.runtime.ServiceDefaults;
import io.aigc.runtime.Tracing;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.Topic;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front door: validates OpenAI-style completion requests, publishes each as a {@code GenerationRequest},
 * and answers from the completions topic. It never generates text.
 *
 * <p>Threads: one Vert.x event loop serves HTTP ({@link GatewayVerticle}); Kafka sends run on Vert.x worker threads
 * ({@link RecordPublisher}); one thread reads every completion ({@link CompletionFeed}) into the {@link JobStore};
 * one reads this instance's partition of the stream topic ({@link StreamFeed}) for its streamed answers; one
 * checks readiness ({@link Readiness}), one the pipeline's {@link Backlog}, and one reads the other services' metrics
 * for the playground's pipeline panel ({@link PipelineMonitor}, when {@code AIGC_PIPELINE_METRICS_URLS} names them). See {@link GatewayConfig} for the
 * environment variables.
 */
public final class GatewayService implements Service {
  private static final Logger log = LoggerFactory.getLogger(GatewayService.class);
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

  private final GatewayConfig config;
  private final String instance = UUID.randomUUID().toString().substring(0, 8);
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final JobStore store;
  private final GatewayMetrics metrics;
  private Admin admin;
  private KafkaProducer<String, byte[]> producer;
  private CompletionFeed feed;
  private StreamFeed streamFeed;
  private Readiness readiness;
  private volatile Backlog backlog;
  private PipelineMonitor monitor;
  private Tracing tracing;
  private Vertx vertx;
  private GatewayVerticle verticle;
  private BatchFiles batchFiles;
  private Batches batches;

  public GatewayService(GatewayConfig config) {
    this.config = config;
    this.store = new JobStore(config.jobStoreSize(), config.maxInFlight());
    this.metrics = new GatewayMetrics(registry, store::inFlight, store::size,
        () -> backlog == null ? -1 : backlog.state().backlog(),
        () -> backlog == null ? List.of() : backlog.stages());
  }

  @Override
  public String name() {
    return "gateway";
  }

  @Override
  public void start() throws Exception {
    try {
      admin = Admin.create(config.kafka().admin("aigc-gateway-admin-" + instance));
      config.common().topicSetup().ensure(admin, config.topics().all(config.models()));

      Topic<GenerationRequest> requests = config.topics().requests();
      producer = new KafkaProducer<>(producerConfig(), new StringSerializer(), new ByteArraySerializer());
      warmUp(requests);
      warmUp(config.topics().cancellations());

      // Positioned before the HTTP server opens, so the completion of any job accepted from now on is read.
      feed = new CompletionFeed(config.kafka(), "aigc-gateway-completions-" + instance, config.topics().completions(),
          Instant.now().minus(config.jobRetention()), store, metrics);
      feed.start();
      // Positioned before the HTTP server opens too; each stream also listens before its request is published.
      streamFeed = new StreamFeed(config.kafka(), "aigc-gateway-stream-" + instance, config.topics().stream(),
          config.streamPartition(), instance, metrics);
      streamFeed.start();

      readiness = new Readiness(admin, config.topics().all(config.models()).stream().map(Topic::name).toList(),
          () -> feed.healthy() && streamFeed.healthy(), config.readyInterval());
      readiness.start();

      if (config.maxBacklog() > 0) {
        // Every model's pool counts: its tokenized topic, read by its own group.
        Map<String, String> pools = new LinkedHashMap<>();
        config.models().forEach(model -> pools.put(config.topics().tokenized(model).name(),
            ServiceDefaults.workerGroup(config.workerGroup(), model)));
        backlog = new Backlog(admin, new Backlog.Pipeline(requests.name(), config.tokenizerGroup(), pools),
            config.maxBacklog(), config.backlogInterval());
        backlog.start();
      }

      monitor = new PipelineMonitor(config.pipelineMetricsUrls(), config.pipelineInterval());
      monitor.start();

      tracing = Tracing.start(config.common().tracing(), name());
      vertx = Vertx.vertx();
      RecordPublisher publisher = new RecordPublisher(vertx, producer);
      JobSubmitter submitter = new JobSubmitter(store, publisher, requests, metrics, config.defaultModel(),
          Clock.systemUTC(), backlog == null ? () -> Backlog.State.UNKNOWN : backlog::state, config.maxBacklog(),
          tracing);
      ServedModels models = ServedModels.of(config.models(), Instant.now().getEpochSecond());
      BatchRoutes batchRoutes;
      if (config.batches().forwards()) {
        batchRoutes = new BatchForwarding(vertx.createHttpClient(), config.batches().gateway());
      } else {
        batches = startBatches(submitter, publisher, models);
        batchRoutes = new BatchApi(batches, batchFiles, config.batches());
      }
      Backlog lagSource = backlog;
      verticle = new GatewayVerticle(config, store, submitter, publisher, streamFeed, models, metrics,
          readiness::ready, batchRoutes,
          lagSource == null ? () -> Backlog.Lag.UNKNOWN : lagSource::lag, monitor);
      await(vertx.deployVerticle(verticle));
      long sweepMs = Math.max(1_000, Math.min(60_000, config.jobRetention().toMillis()));
      vertx.setPeriodic(sweepMs, t -> {
        int released = store.releaseStale(Instant.now().minus(config.jobRetention()));
        if (released > 0) {
          log.warn("{} jobs got no completion within {}; their in-flight slots are released", released,
              config.jobRetention());
        }
      });
      log.info("gateway {} serving on {}:{} (playground at /), models {} (max_tokens <= {}), Kafka {} ({})",
          instance, config.httpHost(), verticle.port(), config.models(), config.maxTokensLimit(),
          config.kafka().bootstrapServers(), config.kafka().securityProtocol());
      log.info("files and batches: {}", config.batches().forwards()
          ? "forwarded to " + config.batches().gateway() : "held in " + config.batches().dataDir());
      if (config.openAccess()) {
        log.warn("AIGC_AUTH=none: /v1/ is served without API keys; anyone who can reach port {} can generate text "
            + "and read any job created without a key", verticle.port());
      } else {
        // Names only: keys are never held in plain text, and hashes have no business in a log either.
        log.info("accepting {} API keys {}, rate limit {}", config.apiKeys().names().size(),
            config.apiKeys().names(), config.rateLimit() == 0 ? "off"
                : config.rateLimit() + " requests/s per key (burst " + config.rateBurst() + ")");
      }
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /** The Batch API's files and batches, from the data folder; unfinished batches resume. */
  private Batches startBatches(JobSubmitter submitter, RecordPublisher publisher, ServedModels models)
      throws Exception {
    batchFiles = new BatchFiles(config.batches().dataDir(), Clock.systemUTC());
    RequestRules.Limits limits = new RequestRules.Limits(config.maxTokensLimit(), config.maxN());
    Batches.Jobs jobs = new Batches.Jobs(submitter, store,
        new JobCanceller(publisher, config.topics().cancellations()), backlog, config.maxBacklog());
    Batches started = new Batches(vertx, config.batches(), batchFiles, jobs,
        Map.of(Routes.COMPLETIONS, new Batches.Endpoint(new CompletionsBody(models, limits, config.tasks()),
            ResponseFormat.TEXT),
            Routes.CHAT_COMPLETIONS, new Batches.Endpoint(new ChatCompletionsBody(models, limits),
                ResponseFormat.CHAT)),
        config.defaultModel(), Clock.systemUTC());
    await(started.start());
    return started;
  }

  /** The port the HTTP server is bound to (useful when {@code AIGC_HTTP_PORT} is 0). */
  public int httpPort() {
    if (verticle == null || verticle.port() < 0) {
      throw new IllegalStateException("the gateway is not started");
    }
    return verticle.port();
  }

  /** The partition of the stream topic this instance reads; -1 while it cannot read one. */
  int streamPartition() {
    return streamFeed == null ? -1 : streamFeed.partition();
  }

  @Override
  public boolean ready() {
    return readiness != null && readiness.ready();
  }

  @Override
  public void close() {
    Duration grace = config.drainTimeout();
    Closeables.closeAll(
        // SIGTERM: no new connection; the requests in flight are answered (the completion and stream feeds still run)
        // within the drain timeout; only then does the rest shut down.
        closing(verticle, v -> v.shutdown(grace).toCompletionStage().toCompletableFuture()
            .get(grace.plusSeconds(5).toMillis(), TimeUnit.MILLISECONDS)),
        // Their state is on disk: a batch stopped here resumes when the gateway starts again.
        batches,
        closing(vertx, v -> await(v.close())),
        readiness, backlog, monitor, feed, streamFeed, batchFiles,
        closing(producer, p -> p.close(Duration.ofSeconds(5))),
        closing(admin, a -> a.close(Duration.ofSeconds(5))),
        tracing);
  }

  private Map<String, Object> producerConfig() {
    Map<String, Object> props = config.kafka().producer("aigc-gateway-" + instance);
    int timeoutMs = (int) Math.min(Integer.MAX_VALUE, config.publishTimeout().toMillis());
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeoutMs);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs);
    // Half the budget per attempt leaves room for one retry within delivery.timeout.ms.
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(1, timeoutMs / 2));
    return props;
  }

  /** Fetches a topic's metadata now, so the first sends do not wait for it. Best effort. */
  private void warmUp(Topic<?> topic) {
    try {
      producer.partitionsFor(topic.name());
    } catch (KafkaException e) {
      log.warn("topic {} is not available yet ({}); what goes to it fails with 503 until it is", topic, e.toString());
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }
}
