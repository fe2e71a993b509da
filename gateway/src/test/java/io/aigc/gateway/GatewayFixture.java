package io.aigc.gateway;

import static org.awaitility.Awaitility.await;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.schemas.Cancellation;
import io.aigc.schemas.Topics;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's own real broker, a {@link TestGateway} on it and, if asked for, the rest of the pipeline played by
 * a {@link FakePipeline}: declared as {@code @RegisterExtension static final GatewayFixture fixture = ...}, started
 * before the class's first test and closed after its last. One broker per class keeps the classes apart. It also
 * calls its gateway over HTTP ({@link TestHttp} with the gateway filled in).
 */
final class GatewayFixture implements BeforeAllCallback, AfterAllCallback {
  private final Supplier<Map<String, String>> env;
  private final boolean withPipeline;
  private final boolean keepGateway;

  private EmbeddedKafka kafka;
  private GatewayService gateway;
  private FakePipeline pipeline;

  private GatewayFixture(Supplier<Map<String, String>> env, boolean withPipeline, boolean keepGateway) {
    this.env = env;
    this.withPipeline = withPipeline;
    this.keepGateway = keepGateway;
  }

  /** A broker, a gateway, and the fake pipeline. */
  static GatewayFixture withPipeline() {
    return new GatewayFixture(Map::of, true, true);
  }

  /** A broker and a gateway; nothing answers what the gateway publishes. */
  static GatewayFixture gatewayOnly() {
    return new GatewayFixture(Map::of, false, true);
  }

  /**
   * A broker and the fake pipeline, for a test that starts its own gateways. A gateway runs once first: it creates
   * the topics, which the fake pipeline needs.
   */
  static GatewayFixture pipelineOnly() {
    return new GatewayFixture(Map::of, true, false);
  }

  /** The same fixture, its gateway started with these variables too. */
  GatewayFixture env(Map<String, String> overrides) {
    return env(() -> overrides);
  }

  /** The same fixture, its gateway started with these variables too, read only when it starts. */
  GatewayFixture env(Supplier<Map<String, String>> overrides) {
    return new GatewayFixture(overrides, withPipeline, keepGateway);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    kafka = EmbeddedKafka.start();
    gateway = TestGateway.start(kafka, env.get());
    if (!keepGateway) {
      gateway.close();
      gateway = null;
    }
    if (withPipeline) {
      pipeline = new FakePipeline(settings(), Topics.defaults());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    // The reverse of the start; what did not start is null.
    for (AutoCloseable started : Arrays.asList(pipeline, gateway, kafka)) {
      if (started != null) {
        started.close();
      }
    }
  }

  GatewayService gateway() {
    if (gateway == null) {
      throw new IllegalStateException("this fixture keeps no gateway of its own");
    }
    return gateway;
  }

  FakePipeline pipeline() {
    if (pipeline == null) {
      throw new IllegalStateException("this fixture has no fake pipeline");
    }
    return pipeline;
  }

  KafkaSettings settings() {
    return KafkaSettings.fromEnv(Env.of(kafka.env()));
  }

  /** A request to this fixture's gateway; headers are name, value pairs, as in {@link TestHttp}. */
  HttpRequest.Builder request(String path, String... headers) {
    return TestHttp.builder(gateway(), path, headers);
  }

  HttpResponse<String> get(String path, String... headers) throws Exception {
    return TestHttp.get(gateway(), path, headers);
  }

  HttpResponse<String> post(String path, String json, String... headers) throws Exception {
    return TestHttp.post(gateway(), path, json, headers);
  }

  /** A series' value from the gateway's /metrics (0 when absent). */
  double metric(String series) throws Exception {
    return TestHttp.metric(gateway(), series);
  }

  /** Another gateway on the same broker, with these variables; the caller closes it. */
  GatewayService startGateway(Map<String, String> overrides) throws Exception {
    return TestGateway.start(kafka, overrides);
  }

  /** What a consumer of {@code group} does once it has processed everything on {@code topic}: commit its end. */
  void commitToEnd(String group, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings().consumer(group, group + "-test"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position);
      consumer.commitSync(Duration.ofSeconds(10));
    }
  }

  /** The cancellation a gateway publishes for job {@code id}, read from the start of the cancellations topic. */
  Cancellation awaitCancellation(String id) {
    Topics topics = Topics.defaults();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings()
        .consumer("cancellations-" + UUID.randomUUID(), "test"), new StringDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topics.cancellations().name()));
      return await().atMost(TestHttp.WAIT).until(() -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (id.equals(r.key())) {
            return topics.cancellations().valueSerde().decode(r.value());
          }
        }
        return null;
      }, c -> c != null);
    }
  }
}
