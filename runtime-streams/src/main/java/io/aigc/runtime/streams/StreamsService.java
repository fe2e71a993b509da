package io.aigc.runtime.streams;

import io.aigc.runtime.CommonConfig;
import io.aigc.runtime.HealthServer;
import io.aigc.runtime.Service;
import io.aigc.runtime.Tracing;
import io.aigc.text.ModelTokenizers;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.BiFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one Kafka Streams topology as a service, exactly once: creates its topics, serves health and metrics, and
 * keeps the stream threads alive. See {@link StreamsSettings} for how it runs.
 */
public final class StreamsService implements Service {
  private static final Logger log = LoggerFactory.getLogger(StreamsService.class);

  private final String name;
  private final Topology topology;
  private final CommonConfig common;
  private final StreamsSettings settings;
  private final Properties props;
  private final PrometheusRegistry registry;
  private final AutoCloseable topologyResources;
  private final Tracing tracing;
  private final List<String> models;
  private KafkaStreams streams;
  private HealthServer health;

  /**
   * @param registry the topology's metrics, served on {@code /metrics} with the JVM's
   * @param topologyResources what the topology's processors use (a tokenizer, say): closed once the stream threads
   *     have stopped, not before
   * @param models the served models, whose tokenized topics are created with the others
   */
  public StreamsService(String name, Topology topology, CommonConfig common, StreamsSettings settings,
      PrometheusRegistry registry, AutoCloseable topologyResources, List<String> models) {
    this.name = name;
    this.topology = topology;
    this.common = common;
    this.settings = settings;
    this.registry = registry;
    this.topologyResources = topologyResources;
    this.models = List.copyOf(models);
    this.props = settings.properties(common.kafka());
    this.tracing = Tracing.start(common.tracing(), name);
    // Each processor finds it in its context's app configs (GuardedProcessor).
    props.put(Tracing.STREAMS_CONFIG, tracing);
  }

  /**
   * The service of a topology over the models in {@code modelDirs}, with a metrics registry of its own. Loads every
   * model's tokenizer now, so that a wrong {@code AIGC_MODEL_DIR} fails at startup; the tokenizers are closed if the
   * topology cannot be built, or once the service has stopped.
   */
  public static StreamsService overModels(String name, CommonConfig common, StreamsSettings settings,
      List<Path> modelDirs, BiFunction<ModelTokenizers, PrometheusRegistry, Topology> topology) {
    ModelTokenizers models = ModelTokenizers.load(modelDirs);
    try {
      PrometheusRegistry registry = new PrometheusRegistry();
      return new StreamsService(name, topology.apply(models, registry), common, settings, registry, models,
          models.names());
    } catch (RuntimeException | Error e) {
      models.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start() throws Exception {
    try (Admin admin = Admin.create(common.kafka().admin(name + "-setup"))) {
      common.topicSetup().ensure(admin, common.topics().all(models));
    }
    streams = new KafkaStreams(topology, props);
    // Every processor catches what a record can cause and dead-letters it, so what reaches here is the
    // environment (a fenced producer, a lost broker): a fresh thread resumes from the last committed offsets.
    streams.setUncaughtExceptionHandler(e -> {
      log.error("{}: stream thread failed, replacing it", name, e);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    streams.start();
    health = HealthServer.start(settings.health(), registry, this::live, this::ready);
    log.info("{}: application {} on {} ({}), health and metrics on port {}", name, settings.applicationId(),
        common.kafka().bootstrapServers(), common.kafka().securityProtocol(), health.port());
  }

  private boolean live() {
    KafkaStreams.State state = streams.state();
    return state != KafkaStreams.State.ERROR && state != KafkaStreams.State.PENDING_ERROR;
  }

  @Override
  public boolean ready() {
    return streams != null && streams.state() == KafkaStreams.State.RUNNING;
  }

  /** The port /metrics is served on (useful when 0 asked for a free one). */
  public int metricsPort() {
    return health.port();
  }

  @Override
  public void close() {
    if (streams != null) {
      // Leave the group (SIGTERM, a scale-in): otherwise the other instances, or this one restarted, wait out the old
      // member's session timeout before its tasks are assigned again. For our dynamic members it is the main
      // consumer's leave-on-close (StreamsSettings) that does it; leaveGroup(true) covers static ones.
      streams.close(new KafkaStreams.CloseOptions().leaveGroup(true).timeout(Duration.ofSeconds(30)));
    }
    if (health != null) {
      health.close();
    }
    try {
      topologyResources.close();
    } catch (Exception e) {
      log.warn("{}: closing the topology's resources failed", name, e);
    }
    tracing.close();
  }
}
