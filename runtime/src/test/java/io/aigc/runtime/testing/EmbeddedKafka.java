package io.aigc.runtime.testing;

import io.aigc.runtime.Env;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real Apache Kafka broker in KRaft mode (one combined broker and controller), started in-process from the
 * broker's own jars. Starts in a few seconds; every test that talks to Kafka talks to one of these.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private final KafkaClusterTestKit cluster;

  private EmbeddedKafka(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  /**
   * The credentials of a {@link #startWithSasl()} broker: the test kit's super-user (the kit also enables an
   * authorizer, and these tests are about authentication reaching every client, not about ACLs).
   */
  public static final String SASL_USER = "plain-admin";
  public static final String SASL_PASSWORD = "plain-admin-secret";

  public static EmbeddedKafka start() {
    return start(SecurityProtocol.PLAINTEXT);
  }

  /** A broker whose client listener requires SASL PLAIN authentication (the test kit's own users). */
  public static EmbeddedKafka startWithSasl() {
    return start(SecurityProtocol.SASL_PLAINTEXT);
  }

  /** The environment a service needs to authenticate to a {@link #startWithSasl()} broker. */
  public static Map<String, String> saslEnv() {
    return Map.of(
        "KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM", "PLAIN",
        "KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
            + SASL_USER + "\" password=\"" + SASL_PASSWORD + "\";");
  }

  private static EmbeddedKafka start(SecurityProtocol protocol) {
    try {
      KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
          .setCombined(true)
          .setNumBrokerNodes(1)
          .setNumControllerNodes(1)
          .setBrokerSecurityProtocol(protocol)
          .setControllerSecurityProtocol(protocol)
          .build())
          .setConfigProp("offsets.topic.replication.factor", "1")
          .setConfigProp("offsets.topic.num.partitions", "4")
          .setConfigProp("transaction.state.log.replication.factor", "1")
          .setConfigProp("transaction.state.log.min.isr", "1")
          .setConfigProp("transaction.state.log.num.partitions", "4")
          .setConfigProp("group.initial.rebalance.delay.ms", "0")
          .setConfigProp("auto.create.topics.enable", "false")
          .build();
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      return new EmbeddedKafka(cluster);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the embedded Kafka broker", e);
    }
  }

  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /** The environment a service needs to reach this broker. */
  public Map<String, String> env() {
    return Map.of("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers());
  }

  /**
   * The environment of a service under test against this broker: its state in {@code stateDir}, health and metrics
   * on a free loopback port, topics of {@code partitions} partitions, and {@code extra} on top.
   */
  public Env serviceEnv(Path stateDir, int partitions, Map<String, String> extra) {
    Map<String, String> vars = new HashMap<>(env());
    vars.put("AIGC_STATE_DIR", stateDir.toString());
    vars.put("AIGC_METRICS_HOST", "127.0.0.1");
    vars.put("AIGC_METRICS_PORT", "0");
    vars.put("AIGC_TOPIC_PARTITIONS", String.valueOf(partitions));
    vars.putAll(extra);
    return Env.of(vars);
  }

  @Override
  public void close() {
    try {
      cluster.close();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop the embedded Kafka broker", e);
    }
  }
}
