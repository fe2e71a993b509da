package io.aigc.local;

import static org.awaitility.Awaitility.await;

import io.aigc.model.testing.TestModels;
import io.aigc.runtime.Env;
import io.aigc.runtime.testing.EmbeddedKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A real broker (in-process KRaft) and the four services on free ports, with the default model and one API key:
 * what tests run outside clients (Python, curl, kcat) against.
 */
final class TestPipeline implements AutoCloseable {
  private final EmbeddedKafka kafka;
  private final LocalPipeline pipeline;
  private final String apiKey;
  private final Path stateDir;

  private TestPipeline(EmbeddedKafka kafka, LocalPipeline pipeline, String apiKey, Path stateDir) {
    this.kafka = kafka;
    this.pipeline = pipeline;
    this.apiKey = apiKey;
    this.stateDir = stateDir;
  }

  static TestPipeline start() throws Exception {
    return start(Map.of());
  }

  /** With these variables set beside the defaults (OTEL_EXPORTER_OTLP_ENDPOINT, say). */
  static TestPipeline start(Map<String, String> extra) throws Exception {
    String apiKey = "test-" + UUID.randomUUID();
    Path stateDir = Files.createTempDirectory("aigc-clients");
    EmbeddedKafka kafka = EmbeddedKafka.start();
    LocalPipeline pipeline = null;
    try {
      Map<String, String> vars = new HashMap<>(kafka.env());
      vars.putAll(Map.of(
          "AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(),
          "AIGC_HTTP_PORT", "0",
          "AIGC_TOKENIZER_METRICS_PORT", "0",
          "AIGC_WORKER_METRICS_PORT", "0",
          "AIGC_POSTPROCESSOR_METRICS_PORT", "0",
          "AIGC_STATE_DIR", stateDir.toString(),
          "AIGC_TOPIC_PARTITIONS", "4",
          "AIGC_API_KEYS", "test:" + PipelineEndToEndTest.sha256Hex(apiKey),
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
      throw e;
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

  /** The key the gateway accepts (it knows only its SHA-256). */
  String apiKey() {
    return apiKey;
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

  /** Streams state of a finished test: nobody reads it again, and /tmp is shared. */
  private static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Best effort: a leftover temporary folder harms nothing.
    }
  }
}
