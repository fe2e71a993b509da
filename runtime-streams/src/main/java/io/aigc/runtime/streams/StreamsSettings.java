package io.aigc.runtime.streams;

import io.aigc.runtime.Env;
import io.aigc.runtime.HealthSettings;
import io.aigc.runtime.KafkaSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * How a Kafka Streams service runs, each setting with the service's own default where it has one:
 * <ul>
 *   <li>{@code AIGC_APPLICATION_ID}: the Streams application id, which is also the consumer group
 *   <li>{@code AIGC_STATE_DIR} (default {@code $TMPDIR/aigc-streams}): local state, rebuilt from changelogs if lost
 *   <li>{@code AIGC_STREAM_THREADS} (default 1)
 *   <li>{@code AIGC_COMMIT_INTERVAL} (default 20ms): each stage's added latency, since readers see committed data only
 *   <li>{@code AIGC_METRICS_HOST}, {@code AIGC_METRICS_PORT}: {@link HealthSettings}
 * </ul>
 */
public record StreamsSettings(String applicationId, Path stateDir, int threads, Duration commitInterval,
    HealthSettings health) {
  public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(20);

  public StreamsSettings {
    if (threads < 1) {
      throw new IllegalArgumentException("AIGC_STREAM_THREADS must be at least 1, got " + threads);
    }
    if (commitInterval.isNegative()) {
      throw new IllegalArgumentException("AIGC_COMMIT_INTERVAL must not be negative, got " + commitInterval);
    }
  }

  /**
   * Kafka Streams with exactly-once processing, a record's outputs and its input offset committed atomically: the
   * user's client settings may tune the defaults, never the guarantee.
   */
  public Properties properties(KafkaSettings kafka) {
    Map<String, Object> props = new HashMap<>();
    KafkaSettings.GROUP_TIMEOUTS.forEach((k, v) -> props.put(StreamsConfig.consumerPrefix(k), v));
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    // Downstream consumers read committed data only, so each stage adds up to one commit interval of latency.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    props.putAll(kafka.userSettings());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Leave the group when the instance closes (SIGTERM, a scale-in), so its tasks move at once rather than after
    // the session timeout. Kafka Streams' consumers stay in the group on close by default, and its
    // CloseOptions.leaveGroup(true) removes only static members (group.instance.id); this is the consumer's own
    // switch, set here for the main consumer, whose membership is the one that counts.
    props.put(StreamsConfig.mainConsumerPrefix("internal.leave.group.on.close"), true);
    Properties properties = new Properties();
    properties.putAll(props);
    return properties;
  }

  public static StreamsSettings fromEnv(Env env, String defaultApplicationId, int defaultMetricsPort) {
    return new StreamsSettings(
        env.string("AIGC_APPLICATION_ID", defaultApplicationId),
        env.path("AIGC_STATE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "aigc-streams")),
        env.integer("AIGC_STREAM_THREADS", 1),
        env.duration("AIGC_COMMIT_INTERVAL", DEFAULT_COMMIT_INTERVAL),
        HealthSettings.fromEnv(env, defaultMetricsPort));
  }
}
