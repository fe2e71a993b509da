package io.aigc.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How every service's Kafka clients connect: the bootstrap servers and the security settings, passed the same
 * way to producers, consumers, admin clients and Kafka Streams.
 *
 * <ul>
 *   <li>{@code KAFKA_BOOTSTRAP_SERVERS} (default {@code 127.0.0.1:9092})
 *   <li>{@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_*}, {@code KAFKA_SSL_*}: each becomes the client property
 *       of the same name in lower case with dots ({@code KAFKA_SASL_JAAS_CONFIG} is {@code sasl.jaas.config})
 *   <li>{@code KAFKA_CLIENT_CONFIG_FILE}: a properties file merged into every client, for anything else
 * </ul>
 */
public final class KafkaSettings {
  private final String bootstrapServers;
  private final Map<String, Object> common;

  private KafkaSettings(String bootstrapServers, Map<String, Object> common) {
    this.bootstrapServers = bootstrapServers;
    this.common = Map.copyOf(common);
  }

  public static KafkaSettings fromEnv(Env env) {
    Map<String, Object> common = new HashMap<>();
    env.optional("KAFKA_CLIENT_CONFIG_FILE").ifPresent(file -> common.putAll(loadProperties(Path.of(file))));
    env.optional("KAFKA_SECURITY_PROTOCOL").ifPresent(p -> common.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, p));
    for (String prefix : List.of("KAFKA_SASL_", "KAFKA_SSL_")) {
      env.startingWith(prefix).forEach((name, value) ->
          common.put(name.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.'), value));
    }
    return new KafkaSettings(env.string("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), common);
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The security protocol in use, for the startup log line (never the credentials). */
  public String securityProtocol() {
    return Optional.ofNullable(common.get(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG)).map(Object::toString)
        .orElse("PLAINTEXT");
  }

  public Map<String, Object> admin(String clientId) {
    Map<String, Object> props = new HashMap<>();
    props.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    props.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
    return withUserSettings(props, clientId);
  }

  /** An idempotent producer that waits for all in-sync replicas: no loss, no duplicates from retries. */
  public Map<String, Object> producer(String clientId) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.LINGER_MS_CONFIG, 1);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    props = withUserSettings(props, clientId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    return props;
  }

  /**
   * A producer for records that may be lost or repeated because another record is the authority (a job's text as it
   * is generated, which its completion repeats): the leader's acknowledgement is enough, and records wait a little
   * to travel in larger batches, which at token rate spares the broker a request per token.
   */
  public Map<String, Object> bestEffortProducer(String clientId) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    props.put(ProducerConfig.ACKS_CONFIG, "1");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    return withUserSettings(props, clientId);
  }

  /** A consumer that sees only committed transactions (the Streams services write transactionally). */
  public Map<String, Object> consumer(String groupId, String clientId) {
    Map<String, Object> props = new HashMap<>(GROUP_TIMEOUTS);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props = withUserSettings(props, clientId);
    if (groupId != null) {
      props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    }
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return props;
  }

  /**
   * What the user configured ({@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_*}, {@code KAFKA_SSL_*}, the
   * client config file), for clients built elsewhere (Kafka Streams): they put it after their defaults and before
   * the settings their guarantees depend on, as {@link #producer} and {@link #consumer} do.
   */
  public Map<String, Object> userSettings() {
    return common;
  }

  /**
   * Failure detection for consumer groups: 10 s instead of Kafka's 45 s default. A crashed worker's partitions
   * move sooner, and a Kafka Streams instance restarted within the session timeout waits less for its previous
   * self, which does not leave the group on close. 10 s was Kafka's default before 3.0.
   */
  public static final Map<String, Object> GROUP_TIMEOUTS = Map.of(
      ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000,
      ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);

  /**
   * Our defaults, then the user's settings (which may tune them), then what identifies the client. Settings the
   * guarantees depend on (acks, idempotence, read_committed, exactly_once_v2) are put after this, unoverridable.
   */
  private Map<String, Object> withUserSettings(Map<String, Object> defaults, String clientId) {
    Map<String, Object> props = new HashMap<>(defaults);
    props.putAll(common);
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
    return props;
  }

  private static Map<String, Object> loadProperties(Path file) {
    Properties props = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      props.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read KAFKA_CLIENT_CONFIG_FILE " + file, e);
    }
    Map<String, Object> map = new HashMap<>();
    props.forEach((k, v) -> map.put(k.toString(), v));
    return map;
  }
}
