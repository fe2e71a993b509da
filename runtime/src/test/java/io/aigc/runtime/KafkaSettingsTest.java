package io.aigc.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaSettingsTest {

  @Test
  void passesTlsAndSaslSettingsToEveryClient(@TempDir Path dir) throws Exception {
    Path extra = dir.resolve("client.properties");
    Files.writeString(extra, "client.dns.lookup=use_all_dns_ips\n");
    KafkaSettings kafka = KafkaSettings.fromEnv(Env.of(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "broker:9093",
        "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
        "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
        "KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/truststore.jks",
        "KAFKA_CLIENT_CONFIG_FILE", extra.toString(),
        "KAFKA_HEAP_OPTS", "-Xmx1g")));

    Map<String, Object> expected = Map.of(
        "bootstrap.servers", "broker:9093",
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", "SCRAM-SHA-512",
        "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "ssl.truststore.location", "/etc/kafka/truststore.jks",
        "client.dns.lookup", "use_all_dns_ips");
    assertThat(kafka.producer("p")).containsAllEntriesOf(expected).doesNotContainKey("heap.opts");
    assertThat(kafka.consumer("g", "c")).containsAllEntriesOf(expected);
    assertThat(kafka.admin("a")).containsAllEntriesOf(expected);
    assertThat(kafka.securityProtocol()).isEqualTo("SASL_SSL");
  }

  @Test
  void defaultsToALocalPlaintextBroker() {
    KafkaSettings kafka = KafkaSettings.fromEnv(Env.of(Map.of()));
    assertThat(kafka.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(kafka.securityProtocol()).isEqualTo("PLAINTEXT");
    assertThat(kafka.consumer("g", "c")).containsEntry("isolation.level", "read_committed");
    assertThat(kafka.producer("p")).containsEntry("enable.idempotence", true).containsEntry("acks", "all");
    assertThat(kafka.consumer("g", "c")).containsEntry("session.timeout.ms", 10_000);
  }

  @Test
  void userSettingsTuneDefaultsButCannotWeakenTheGuarantees(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, String.join("\n", "session.timeout.ms=30000", "linger.ms=5", "acks=1",
        "isolation.level=read_uncommitted", "enable.auto.commit=true", "processing.guarantee=at_least_once"));
    KafkaSettings kafka = KafkaSettings.fromEnv(Env.of(Map.of("KAFKA_CLIENT_CONFIG_FILE", file.toString())));

    assertThat(kafka.consumer("g", "c")).containsEntry("session.timeout.ms", "30000")
        .containsEntry("isolation.level", "read_committed").containsEntry("enable.auto.commit", false);
    assertThat(kafka.producer("p")).containsEntry("linger.ms", "5").containsEntry("acks", "all");
  }
}
