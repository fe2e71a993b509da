package io.aigc.runtime.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamsSettingsTest {

  @Test
  void passesTlsAndSaslSettingsToKafkaStreams(@TempDir Path dir) {
    KafkaSettings kafka = KafkaSettings.fromEnv(Env.of(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "broker:9093",
        "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
        "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
        "KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/truststore.jks")));
    Properties streams = settings(dir).properties(kafka);
    assertThat(streams).containsAllEntriesOf(Map.of(
        "bootstrap.servers", "broker:9093",
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", "SCRAM-SHA-512",
        "ssl.truststore.location", "/etc/kafka/truststore.jks",
        "application.id", "app",
        "commit.interval.ms", 20L));
    assertThat(streams.get("processing.guarantee")).isEqualTo("exactly_once_v2");
  }

  @Test
  void userSettingsCannotWeakenExactlyOnce(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, "processing.guarantee=at_least_once\n");
    KafkaSettings kafka = KafkaSettings.fromEnv(Env.of(Map.of("KAFKA_CLIENT_CONFIG_FILE", file.toString())));
    assertThat(settings(dir).properties(kafka)).containsEntry("processing.guarantee", "exactly_once_v2");
  }

  @Test
  void eachServiceHasItsOwnDefaultsAndAnyCanBeSet() {
    StreamsSettings defaults = StreamsSettings.fromEnv(Env.of(Map.of()), "aigc-x", 9109);
    assertThat(defaults.applicationId()).isEqualTo("aigc-x");
    assertThat(defaults.health().port()).isEqualTo(9109);
    assertThat(defaults.commitInterval()).isEqualTo(Duration.ofMillis(20));
    StreamsSettings set = StreamsSettings.fromEnv(Env.of(Map.of("AIGC_APPLICATION_ID", "tenant-a",
        "AIGC_METRICS_PORT", "0", "AIGC_STREAM_THREADS", "2", "AIGC_COMMIT_INTERVAL", "0")), "aigc-x", 9109);
    assertThat(set.applicationId()).isEqualTo("tenant-a");
    assertThat(set.health().port()).isZero();
    assertThat(set.threads()).isEqualTo(2);
    assertThat(set.commitInterval()).isZero();
    assertThatThrownBy(() -> StreamsSettings.fromEnv(Env.of(Map.of("AIGC_STREAM_THREADS", "0")), "a", 1))
        .hasMessageContaining("AIGC_STREAM_THREADS");
  }

  private static StreamsSettings settings(Path dir) {
    return StreamsSettings.fromEnv(Env.of(Map.of("AIGC_STATE_DIR", dir.toString())), "app", 0);
  }
}
