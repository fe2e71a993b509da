package io.aigc.local;

import static org.awaitility.Awaitility.await;

import io.aigc.model.testing.TestModels;
import io.aigc.runtime.Env;
import io.aigc.runtime.testing.EmbeddedKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * A real broker (in-process KRaft) and the four services on free ports, with the default model and one API key
 * ({@code apiKey}; the gateway knows only its SHA-256): what tests run outside clients (Python, curl, kcat, Node)
 * against.
 */
record TestPipeline(EmbeddedKafka kafka, LocalPipeline pipeline, String apiKey, Path stateDir)
    implements AutoCloseable {

  static TestPipeline start() throws Exception {
    return start(Map.of());
  }

  /** With these variables set beside the defaults (OTEL_EXPORTER_OTLP_ENDPOINT, say). */
  static TestPipeline start(Map<String, String> extra) throws Exception {
    return start(EmbeddedKafka.start(), extra);
  }

  /** On this broker (one that requires SASL, say), which it closes with itself. */
  static TestPipeline start(EmbeddedKafka kafka, Map<String, String> extra) throws Exception {
    String apiKey = "test-" + UUID.randomUUID();
    LocalPipeline pipeline = null;
    Path stateDir = null;
    try {
      stateDir = Files.createTempDirectory("aigc-clients");
      Map<String, String> vars = new HashMap<>(kafka.env());
      vars.putAll(Map.of(
          "AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(),
          "AIGC_HTTP_PORT", "0",
          "AIGC_TOKENIZER_METRICS_PORT", "0",
          "AIGC_WORKER_METRICS_PORT", "0",
          "AIGC_POSTPROCESSOR_METRICS_PORT", "0",
          "AIGC_STATE_DIR", stateDir.toString(),
          "AIGC_TOPIC_PARTITIONS", "4",
          "AIGC_API_KEYS", "test:" + sha256Hex(apiKey),
          "AIGC_RATE_LIMIT", "0"));
      vars.putAll(extra);
      vars.put("AIGC_DATA_DIR", stateDir.resolve("gateway").toString());
      pipeline = LocalPipeline.start(Env.of(vars));
      await().atMost(Duration.ofSeconds(90)).until(pipeline::ready);
      return new TestPipeline(kafka, pipeline, apiKey, stateDir);
    } catch (Exception | Error e) {
      if (pipeline != null) {
        pipeline.close();
      }
      kafka.close();
      if (stateDir != null) {
        deleteQuietly(stateDir);
      }
      throw e;
    }
  }

  /** A pipeline for a test class: {@code @RegisterExtension static final PerClass<TestPipeline> pipeline = ...}. */
  static PerClass<TestPipeline> perClass() {
    return perClass(Map::of);
  }

  /**
   * The same, started once {@code setup} has run: it checks what the class needs besides (failing, never skipping,
   * when a client is missing) and returns the variables to set beside the defaults.
   */
  static PerClass<TestPipeline> perClass(Callable<Map<String, String>> setup) {
    return new PerClass<>(() -> start(setup.call()));
  }

  /** What the gateway is configured with for a key: its SHA-256, never the key. */
  static String sha256Hex(String key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  int gatewayPort() {
    return pipeline.gatewayPort();
  }

  /** Where each service serves /metrics, by service name (the gateway's is its HTTP port). */
  Map<String, Integer> metricsPorts() {
    return pipeline.metricsPorts();
  }

  /** The port of a service's /metrics ({@code inference-worker}, ...; the gateway's is its HTTP port). */
  int metricsPort(String service) {
    return pipeline.metricsPorts().get(service);
  }

  /** What a client process needs to reach this broker, as the examples and the services read it. */
  Map<String, String> clientEnv() {
    return Map.of("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers());
  }

  @Override
  public void close() {
    try {
      pipeline.close();
    } finally {
      kafka.close();
      deleteQuietly(stateDir);
    }
  }

  /** What a finished test leaves (Streams state, logs): nobody reads it again, and /tmp is shared. */
  static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Best effort: a leftover temporary folder harms nothing.
    }
  }
}
