package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.runtime.Env;
import io.aigc.model.ModelDirectory;
import io.aigc.model.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GatewayConfigTest {
  private static final String KEYS = TestKeys.aliceAndBob();

  /** {@code vars} plus the API keys every gateway needs unless it serves without them. */
  private static GatewayConfig config(Map<String, String> vars) {
    Map<String, String> all = new HashMap<>(Map.of("AIGC_API_KEYS", KEYS));
    all.putAll(vars);
    return GatewayConfig.fromEnv(Env.of(all));
  }

  @Test
  void documentedDefaults() {
    GatewayConfig c = config(Map.of("AIGC_MODEL_DIR", "/nowhere/tiny-llama"));
    assertThat(c.httpHost()).isEqualTo("0.0.0.0");
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.models()).containsExactly("tiny-llama");
    assertThat(c.maxTokensLimit()).isEqualTo(4096);
    assertThat(c.maxN()).isEqualTo(8);
    assertThat(c.maxBodyBytes()).isEqualTo(1024 * 1024);
    assertThat(c.syncTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.streamIdleTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.streamPartition()).isNull();
    assertThat(c.httpIdleTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(c.maxInFlight()).isEqualTo(1024);
    assertThat(c.jobRetention()).isEqualTo(Duration.ofHours(24));
    assertThat(c.jobStoreSize()).isEqualTo(100_000);
    assertThat(c.publishTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.readyInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.openAccess()).isFalse();
    assertThat(c.rateLimit()).isEqualTo(10.0);
    assertThat(c.rateBurst()).isEqualTo(20);
    assertThat(c.maxBacklog()).isEqualTo(10_000);
    assertThat(c.backlogInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.tokenizerGroup()).isEqualTo("aigc-tokenizer");
    assertThat(c.workerGroup()).isEqualTo("aigc-inference-worker");
    assertThat(c.pipelineMetricsUrls()).isEmpty();
    assertThat(c.pipelineInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.kafka().bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(c.topics().requests().name()).isEqualTo("generation.requests");
  }

  @Test
  void batchesTakeHalfOfTheInFlightSlotsAndOfTheBacklogUnlessTold() {
    BatchConfig defaults = config(Map.of()).batches();
    assertThat(defaults.dataDir()).isEqualTo(java.nio.file.Path.of(System.getProperty("java.io.tmpdir"),
        "aigc-gateway"));
    assertThat(defaults.maxFileBytes()).isEqualTo(200L * 1024 * 1024);
    assertThat(defaults.backlogShare()).isEqualTo(0.5);
    assertThat(defaults.maxInFlight()).isEqualTo(512);
    assertThat(defaults.completionWindow()).isEqualTo(Duration.ofHours(24));
    assertThat(config(Map.of("AIGC_MAX_IN_FLIGHT", "10")).batches().maxInFlight()).isEqualTo(5);
    assertThat(config(Map.of("AIGC_MAX_IN_FLIGHT", "1")).batches().maxInFlight()).isEqualTo(1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> config(Map.of("AIGC_BATCH_BACKLOG_SHARE", "0")))
        .hasMessageContaining("AIGC_BATCH_BACKLOG_SHARE");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> config(Map.of("AIGC_MAX_IN_FLIGHT", "10",
        "AIGC_BATCH_MAX_IN_FLIGHT", "11"))).hasMessageContaining("AIGC_BATCH_MAX_IN_FLIGHT");
  }

  @Test
  void theBatchGatewayUrlIsAGatewaysAddressWithoutAPath() {
    assertThat(config(Map.of()).batches().forwards()).isFalse();
    BatchConfig forwarding = config(Map.of("AIGC_BATCH_GATEWAY_URL", "http://gateway-batches")).batches();
    assertThat(forwarding.forwards()).isTrue();
    assertThat(forwarding.gateway()).hasToString("http://gateway-batches");
    assertThat(config(Map.of("AIGC_BATCH_GATEWAY_URL", "https://gateway-batches:8443/")).batches().gateway())
        .hasPort(8443);
    for (String bad : List.of("gateway-batches:8080", "ftp://gateway-batches", "http://gateway-batches/v1",
        "http://gateway-batches?x=1", "http://user@gateway-batches", "http://a b/")) {
      assertThatThrownBy(() -> config(Map.of("AIGC_BATCH_GATEWAY_URL", bad)))
          .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_BATCH_GATEWAY_URL");
    }
  }

  @Test
  void pipelineMetricsUrlsAreHttpUrlsWithAHost() {
    assertThat(config(Map.of("AIGC_PIPELINE_METRICS_URLS",
        " http://127.0.0.1:9101/metrics,,https://worker-0.workers:9102/metrics ")).pipelineMetricsUrls())
        .extracting(Object::toString)
        .containsExactly("http://127.0.0.1:9101/metrics", "https://worker-0.workers:9102/metrics");
    for (String bad : List.of("127.0.0.1:9101/metrics", "file:///etc/passwd", "http:///metrics", "http://a b/")) {
      assertThatThrownBy(() -> config(Map.of("AIGC_PIPELINE_METRICS_URLS", bad)))
          .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_PIPELINE_METRICS_URLS");
    }
    assertThatThrownBy(() -> config(Map.of("AIGC_PIPELINE_INTERVAL", "0s")))
        .hasMessageContaining("AIGC_PIPELINE_INTERVAL must be positive");
  }

  @Test
  void theHttpIdleTimeoutOutlastsTheLongerOfTheSyncAndStreamWaits() {
    assertThat(config(Map.of("AIGC_STREAM_IDLE_TIMEOUT", "120s")).httpIdleTimeout())
        .isEqualTo(Duration.ofSeconds(150));
    assertThat(config(Map.of("AIGC_SYNC_TIMEOUT", "100s", "AIGC_STREAM_IDLE_TIMEOUT", "10s")).httpIdleTimeout())
        .isEqualTo(Duration.ofSeconds(130));
  }

  @Test
  void modelNamesAreTheFolderNamesTheFirstTheDefault() {
    assertThat(config(Map.of()).models()).containsExactly("tiny-llama");
    assertThat(config(Map.of("AIGC_MODEL_DIR", "/models/other/")).models()).containsExactly("other");
    GatewayConfig two = config(Map.of("AIGC_MODEL_DIR", "/models/b,/models/a"));
    assertThat(two.models()).containsExactly("b", "a");
    assertThat(two.defaultModel()).isEqualTo("b");
  }

  @Test
  void maxTokensLimitIsTheModelsContextLength() {
    String dir = TestModels.dir(TestModels.TINY_LLAMA).toString();
    assertThat(config(Map.of("AIGC_MODEL_DIR", dir)).maxTokensLimit()).isEqualTo(256);
    // Several models: the longest context; each request is checked against its own model's by the tokenizer.
    assertThat(config(Map.of("AIGC_MODEL_DIR", dir + "," + TestModels.dir(TestModels.TINY_GPT2))).maxTokensLimit())
        .isEqualTo(Math.max(256, ModelDirectory.open(TestModels.dir(TestModels.TINY_GPT2)).contextLength()));
    assertThat(config(Map.of("AIGC_MODEL_DIR", dir, "AIGC_MAX_TOKENS_LIMIT", "100")).maxTokensLimit())
        .isEqualTo(100);
  }

  @Test
  void readsEveryVariable() {
    GatewayConfig c = config(Map.ofEntries(
        Map.entry("AIGC_HTTP_HOST", "127.0.0.1"), Map.entry("AIGC_HTTP_PORT", "0"),
        Map.entry("AIGC_MAX_TOKENS_LIMIT", "64"), Map.entry("AIGC_MAX_N", "2"),
        Map.entry("AIGC_MAX_BODY_BYTES", "4096"), Map.entry("AIGC_SYNC_TIMEOUT", "5s"),
        Map.entry("AIGC_MAX_IN_FLIGHT", "3"), Map.entry("AIGC_JOB_RETENTION", "1h"),
        Map.entry("AIGC_JOB_STORE_SIZE", "10"), Map.entry("AIGC_PUBLISH_TIMEOUT", "2s"),
        Map.entry("AIGC_READY_INTERVAL", "250ms"), Map.entry("AIGC_TOPIC_REQUESTS", "r"),
        Map.entry("AIGC_RATE_LIMIT", "2.5"), Map.entry("AIGC_RATE_BURST", "7"),
        Map.entry("AIGC_MAX_BACKLOG", "500"), Map.entry("AIGC_HTTP_IDLE_TIMEOUT", "6s"),
        Map.entry("AIGC_STREAM_IDLE_TIMEOUT", "4s"), Map.entry("AIGC_STREAM_PARTITION", "3"),
        Map.entry("AIGC_BACKLOG_INTERVAL", "300ms"),
        Map.entry("AIGC_TOKENIZER_GROUP", "tok"), Map.entry("AIGC_WORKER_GROUP", "work"),
        Map.entry("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")));
    assertThat(c).extracting(GatewayConfig::httpHost, GatewayConfig::httpPort, GatewayConfig::maxTokensLimit,
            GatewayConfig::maxN, GatewayConfig::maxBodyBytes, GatewayConfig::syncTimeout, GatewayConfig::maxInFlight,
            GatewayConfig::jobRetention, GatewayConfig::jobStoreSize, GatewayConfig::publishTimeout,
            GatewayConfig::readyInterval)
        .containsExactly("127.0.0.1", 0, 64, 2, 4096, Duration.ofSeconds(5), 3, Duration.ofHours(1), 10,
            Duration.ofSeconds(2), Duration.ofMillis(250));
    assertThat(c).extracting(GatewayConfig::rateLimit, GatewayConfig::rateBurst, GatewayConfig::maxBacklog,
            GatewayConfig::backlogInterval, GatewayConfig::tokenizerGroup, GatewayConfig::workerGroup)
        .containsExactly(2.5, 7, 500L, Duration.ofMillis(300), "tok", "work");
    assertThat(c.apiKeys().names()).containsExactlyInAnyOrder("alice", "bob");
    assertThat(c.httpIdleTimeout()).isEqualTo(Duration.ofSeconds(6));
    assertThat(c.streamIdleTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(c.streamPartition()).isEqualTo(3);
    assertThat(c.topics().requests().name()).isEqualTo("r");
    assertThat(c.kafka().bootstrapServers()).isEqualTo("kafka:9092");
  }

  /** Each bad setting (NAME=value, apart) and the variables its error names. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      AIGC_MAX_IN_FLIGHT=0                                    | AIGC_MAX_IN_FLIGHT
      AIGC_HTTP_PORT=http                                     | AIGC_HTTP_PORT
      AIGC_SYNC_TIMEOUT=0s                                    | AIGC_SYNC_TIMEOUT
      AIGC_JOB_STORE_SIZE=10                                  | AIGC_JOB_STORE_SIZE
      AIGC_SYNC_TIMEOUT=30s AIGC_HTTP_IDLE_TIMEOUT=30s        | AIGC_HTTP_IDLE_TIMEOUT
      AIGC_STREAM_IDLE_TIMEOUT=0s                             | AIGC_STREAM_IDLE_TIMEOUT
      AIGC_STREAM_IDLE_TIMEOUT=90s AIGC_HTTP_IDLE_TIMEOUT=80s | AIGC_HTTP_IDLE_TIMEOUT AIGC_STREAM_IDLE_TIMEOUT
      AIGC_STREAM_PARTITION=-1                                | AIGC_STREAM_PARTITION
      AIGC_RATE_LIMIT=-1                                      | AIGC_RATE_LIMIT
      AIGC_RATE_BURST=0                                       | AIGC_RATE_BURST
      AIGC_MAX_BACKLOG=-5                                     | AIGC_MAX_BACKLOG
      AIGC_BACKLOG_INTERVAL=0ms                               | AIGC_BACKLOG_INTERVAL
      AIGC_TOKENIZER_GROUP=same AIGC_WORKER_GROUP=same        | AIGC_TOKENIZER_GROUP AIGC_WORKER_GROUP
      """)
  void invalidValuesNameTheVariable(String settings, String named) {
    Map<String, String> vars = new HashMap<>();
    for (String setting : settings.split(" ")) {
      vars.put(setting.substring(0, setting.indexOf('=')), setting.substring(setting.indexOf('=') + 1));
    }
    var refused = assertThatThrownBy(() -> config(vars)).isInstanceOf(IllegalArgumentException.class);
    for (String name : named.split(" ")) {
      refused.hasMessageContaining(name);
    }
  }


  // ---- access control ----

  @Test
  void refusesToStartWithoutKeysUnlessOpenAccessIsExplicit() {
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AIGC_API_KEYS").hasMessageContaining("AIGC_AUTH=none");
    GatewayConfig open = GatewayConfig.fromEnv(Env.of(Map.of("AIGC_AUTH", "none")));
    assertThat(open.openAccess()).isTrue();
    assertThat(open.apiKeys().isEmpty()).isTrue();
    assertThat(GatewayConfig.fromEnv(Env.of(Map.of("AIGC_AUTH", "api_key", "AIGC_API_KEYS", KEYS))).openAccess())
        .isFalse();
  }

  @Test
  void openAccessAndKeysAreExclusive() {
    assertThatThrownBy(() -> config(Map.of("AIGC_AUTH", "none")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_AUTH=none")
        .hasMessageContaining("AIGC_API_KEYS");
    assertThatThrownBy(() -> config(Map.of("AIGC_AUTH", "off")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_AUTH");
  }

  @Test
  void keysFromAFileWithComments(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("keys");
    Files.write(file, List.of("# callers of the staging gateway", "", TestKeys.entry("ci", "sk-ci"),
        "  " + TestKeys.entry("batch-2", "sk-batch") + "  ", "   # retired: old:0000"));
    GatewayConfig c = GatewayConfig.fromEnv(Env.of(Map.of("AIGC_API_KEYS_FILE", file.toString())));
    assertThat(c.apiKeys().names()).containsExactlyInAnyOrder("ci", "batch-2");
    assertThat(c.apiKeys().nameOf("sk-batch")).hasValue("batch-2");

    assertThatThrownBy(() -> config(Map.of("AIGC_API_KEYS_FILE", file.toString())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not both");
    Path empty = Files.write(dir.resolve("empty"), List.of("# nobody yet"));
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_API_KEYS_FILE", empty.toString()))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AIGC_API_KEYS_FILE");
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_API_KEYS_FILE", dir.resolve("absent")
        .toString())))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be read");
  }

  @Test
  void aKeyConfiguredInPlainTextIsRefusedWithoutRepeatingIt() {
    String plain = "sk-live-0123456789abcdef";
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_API_KEYS",
            TestKeys.entry("alice", TestKeys.ALICE) + ",ci:" + plain))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AIGC_API_KEYS entry 2").hasMessageContaining("'ci'")
        .hasMessageNotContaining(plain);
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Env.of(Map.of("AIGC_API_KEYS", plain))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AIGC_API_KEYS entry 1").hasMessageNotContaining(plain);
  }

  @Test
  void rateBurstDefaultsToTwiceTheRate() {
    assertThat(config(Map.of("AIGC_RATE_LIMIT", "3")).rateBurst()).isEqualTo(6);
    assertThat(config(Map.of("AIGC_RATE_LIMIT", "0.2")).rateBurst()).isEqualTo(1);
    assertThat(config(Map.of("AIGC_RATE_LIMIT", "0")).rateLimit()).isZero();
  }
}
