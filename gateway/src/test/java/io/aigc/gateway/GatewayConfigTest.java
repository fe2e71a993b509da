package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.runtime.Env;
import io.aigc.runtime.testing.TestModels;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatewayConfigTest {
  @Test
  void documentedDefaults() {
    GatewayConfig c = GatewayConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", "/nowhere/tiny-llama")));
    assertThat(c.httpHost()).isEqualTo("0.0.0.0");
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.modelName()).isEqualTo("tiny-llama");
    assertThat(c.maxTokensLimit()).isEqualTo(4096);
    assertThat(c.maxN()).isEqualTo(8);
    assertThat(c.maxBodyBytes()).isEqualTo(1024 * 1024);
    assertThat(c.syncTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.maxInFlight()).isEqualTo(1024);
    assertThat(c.jobRetention()).isEqualTo(Duration.ofHours(24));
    assertThat(c.jobStoreSize()).isEqualTo(100_000);
    assertThat(c.publishTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.readyInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.kafka().bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(c.topics().requests().name()).isEqualTo("generation.requests");
  }

  @Test
  void modelNameDefaultsToTheFolderName() {
    assertThat(GatewayConfig.fromEnv(Env.of(Map.of())).modelName()).isEqualTo("tiny-llama");
    assertThat(GatewayConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", "/models/other/"))).modelName())
        .isEqualTo("other");
    assertThat(GatewayConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_NAME", "served"))).modelName()).isEqualTo("served");
  }

  @Test
  void maxTokensLimitIsTheModelsContextLength() {
    String dir = TestModels.dir(TestModels.TINY_LLAMA).toString();
    assertThat(GatewayConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", dir))).maxTokensLimit()).isEqualTo(256);
    assertThat(GatewayConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", dir, "AIGC_MAX_TOKENS_LIMIT", "100")))
        .maxTokensLimit()).isEqualTo(100);
  }

  @Test
  void readsEveryVariable() {
    GatewayConfig c = GatewayConfig.fromEnv(Env.of(Map.ofEntries(
        Map.entry("AIGC_HTTP_HOST", "127.0.0.1"), Map.entry("AIGC_HTTP_PORT", "0"),
        Map.entry("AIGC_MAX_TOKENS_LIMIT", "64"), Map.entry("AIGC_MAX_N", "2"),
        Map.entry("AIGC_MAX_BODY_BYTES", "4096"), Map.entry("AIGC_SYNC_TIMEOUT", "5s"),
        Map.entry("AIGC_MAX_IN_FLIGHT", "3"), Map.entry("AIGC_JOB_RETENTION", "1h"),
        Map.entry("AIGC_JOB_STORE_SIZE", "10"), Map.entry("AIGC_PUBLISH_TIMEOUT", "2s"),
        Map.entry("AIGC_READY_INTERVAL", "250ms"), Map.entry("AIGC_TOPIC_REQUESTS", "r"),
        Map.entry("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"))));
    assertThat(c).extracting(GatewayConfig::httpHost, GatewayConfig::httpPort, GatewayConfig::maxTokensLimit,
            GatewayConfig::maxN, GatewayConfig::maxBodyBytes, GatewayConfig::syncTimeout, GatewayConfig::maxInFlight,
            GatewayConfig::jobRetention, GatewayConfig::jobStoreSize, GatewayConfig::publishTimeout,
            GatewayConfig::readyInterval)
        .containsExactly("127.0.0.1", 0, 64, 2, 4096, Duration.ofSeconds(5), 3, Duration.ofHours(1), 10,
            Duration.ofSeconds(2), Duration.ofMillis(250));
    assertThat(c.topics().requests().name()).isEqualTo("r");
    assertThat(c.kafka().bootstrapServers()).isEqualTo("kafka:9092");
  }

  @Test
  void invalidValuesNameTheVariable() {
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_MAX_IN_FLIGHT", "0"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_MAX_IN_FLIGHT");
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_HTTP_PORT", "http"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_HTTP_PORT");
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_SYNC_TIMEOUT", "0s"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_SYNC_TIMEOUT");
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_JOB_STORE_SIZE", "10"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_JOB_STORE_SIZE");
  }
}
