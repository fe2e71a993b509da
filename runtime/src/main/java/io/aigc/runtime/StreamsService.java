package io.aigc.runtime;

import io.aigc.schemas.Topic;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one Kafka Streams topology as a service: creates its topics, serves health and metrics, and keeps the
 * stream threads alive.
 *
 * <p>Configuration (each with the service's own default where noted):
 * <ul>
 *   <li>{@code AIGC_APPLICATION_ID}: the Streams application id, which is also the consumer group
 *   <li>{@code AIGC_STATE_DIR} (default {@code $TMPDIR/aigc-streams}): local state, rebuilt from changelogs if lost
 *   <li>{@code AIGC_STREAM_THREADS} (default 1)
 *   <li>{@code AIGC_COMMIT_INTERVAL} (default 20ms): each stage's added latency, since readers see committed data only
 *   <li>{@code AIGC_METRICS_HOST} (default 0.0.0.0), {@code AIGC_METRICS_PORT}: /healthz, /readyz, /metrics
 * </ul>
 */
public final class StreamsService implements Service {
  private static final Logger log = LoggerFactory.getLogger(StreamsService.class);

  private final String name;
  private final Topology topology;
  private final List<Topic<?>> topics;
  private final Properties props;
  private final KafkaSettings kafka;
  private final TopicSetup topicSetup;
  private final String metricsHost;
  private final int metricsPort;
  private final PrometheusRegistry registry;
  private final AutoCloseable topologyResources;
  private KafkaStreams streams;
  private HealthServer health;

  /**
   * @param topologyResources what the topology's processors use (a tokenizer, say): closed once the stream threads
   *     have stopped, not before
   */
  public StreamsService(String name, Topology topology, List<Topic<?>> topics, Env env, String defaultApplicationId,
      int defaultMetricsPort, PrometheusRegistry registry, AutoCloseable topologyResources) {
    this.name = name;
    this.topologyResources = topologyResources;
    this.topology = topology;
    this.topics = List.copyOf(topics);
    this.kafka = KafkaSettings.fromEnv(env);
    this.topicSetup = TopicSetup.fromEnv(env);
    this.metricsHost = env.string("AIGC_METRICS_HOST", "0.0.0.0");
    this.metricsPort = env.integer("AIGC_METRICS_PORT", defaultMetricsPort);
    this.registry = registry;
    String applicationId = env.string("AIGC_APPLICATION_ID", defaultApplicationId);
    Path stateDir = env.path("AIGC_STATE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "aigc-streams"));
    int threads = env.integer("AIGC_STREAM_THREADS", 1);
    long commitMs = env.duration("AIGC_COMMIT_INTERVAL", Duration.ofMillis(20)).toMillis();
    this.props = kafka.streams(applicationId, stateDir, threads, commitMs);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start() throws Exception {
    try (Admin admin = Admin.create(kafka.admin(name + "-setup"))) {
      topicSetup.ensure(admin, topics);
    }
    JvmMetrics.builder().register(registry);
    streams = new KafkaStreams(topology, props);
    // Every processor catches what a record can cause and dead-letters it, so what reaches here is the
    // environment (a fenced producer, a lost broker): a fresh thread resumes from the last committed offsets.
    streams.setUncaughtExceptionHandler(e -> {
      log.error("{}: stream thread failed, replacing it", name, e);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    streams.start();
    health = HealthServer.start(metricsHost, metricsPort, registry, this::live, this::ready);
    log.info("{}: application {} on {} ({}), health and metrics on port {}", name,
        props.get("application.id"), kafka.bootstrapServers(), kafka.securityProtocol(), health.port());
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
      // Leave the group: otherwise a restarted instance waits out the old member's session timeout (45 s)
      // before its tasks are assigned again.
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
  }
}
