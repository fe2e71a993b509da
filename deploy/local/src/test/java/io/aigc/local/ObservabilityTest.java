package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.sun.net.httpserver.HttpServer;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.Tracing;
import io.aigc.schemas.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an operator sees, on the real pipeline: every metric the Grafana dashboard and the Prometheus alert rules in
 * {@code deploy/observability/} use is one the services export, and one request's spans, exported over OTLP/HTTP by
 * all four services to a receiver this test runs, share the trace its {@code traceparent} named.
 */
class ObservabilityTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final Path OBSERVABILITY = Commands.ROOT.resolve("deploy/observability");
  static final Duration WAIT = Duration.ofSeconds(60);
  /** A metric name of ours in a PromQL expression (strings are removed first: label values are not names). */
  static final Pattern OUR_NAME = Pattern.compile("\\baigc_[a-zA-Z0-9_]+");
  static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
  static final Pattern TYPE = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$");

  // Registered in this order, so closed in the reverse: the pipeline first, its last spans still received.
  @RegisterExtension
  @Order(1)
  static final OtlpReceiver receiver = new OtlpReceiver();
  @RegisterExtension
  @Order(2)
  static final PerClass<TestPipeline> pipeline =
      TestPipeline.perClass(() -> Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url()));

  @Test
  void everyMetricOfTheDashboardAndTheAlertRulesIsExported() throws Exception {
    Set<String> used = new TreeSet<>();
    expressions().forEach(expr -> used.addAll(names(expr)));
    assertThat(used).as("metric names used by deploy/observability")
        .contains("aigc_time_to_first_token_seconds_bucket", "aigc_consumer_lag", "aigc_dead_letters_total",
            "aigc_consumer_group_members", "aigc_request_success_total", "aigc_kv_cache_usage_perc");

    complete("The capital of France is", null);
    // The consumer lag is read on the gateway's backlog timer: awaited, not assumed.
    await().atMost(WAIT).untilAsserted(() -> assertThat(exported()).as("names the services export").containsAll(used));
  }

  @Test
  void everyMetricOfOursIsInTheReadmeTable() throws Exception {
    String readme = Files.readString(Commands.ROOT.resolve("README.md"));
    String table = readme.substring(readme.indexOf("| Metric | Type |"), readme.indexOf("## Performance"));
    assertThat(families()).filteredOn(name -> name.startsWith("aigc_"))
        .allSatisfy(name -> assertThat(table).as("README's metrics table").contains("`" + name + "`"));
  }

  @Test
  void oneRequestsSpansFromAllFourServicesShareItsTraceAndItsRecordsCarryItsTraceparent() throws Exception {
    String traceId = HexFormat.of().formatHex(randomBytes(16));
    String parentSpan = HexFormat.of().formatHex(randomBytes(8));
    String traceparent = "00-" + traceId + "-" + parentSpan + "-01";

    complete("Once upon a time", traceparent);

    await().atMost(WAIT).untilAsserted(() -> assertThat(receiver.spans().stream()
            .filter(s -> s.traceId().equals(traceId)).map(OtlpReceiver.Span::service).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("gateway", "tokenizer-service", "inference-worker", "postprocessor"));
    List<OtlpReceiver.Span> spans = receiver.spans().stream().filter(s -> s.traceId().equals(traceId)).toList();
    // Every stage's span hangs under the caller's span: the context travels unchanged from the HTTP request.
    assertThat(spans).allSatisfy(s -> assertThat(s.parentSpanId()).isEqualTo(parentSpan));

    Topics topics = Topics.defaults();
    assertThat(traceparents(topics.completions().name())).contains(traceparent);
    assertThat(traceparents(topics.stream().name())).contains(traceparent);
  }

  /** Every PromQL expression of the dashboard (panels and template queries) and of the alert rules. */
  static List<String> expressions() throws IOException {
    List<String> out = new ArrayList<>();
    JsonNode dashboard = JSON.readTree(OBSERVABILITY.resolve("grafana-dashboard.json").toFile());
    dashboard.findValues("expr").forEach(n -> out.add(n.asText()));
    dashboard.path("templating").path("list").forEach(v -> {
      if (v.path("query").isObject()) {
        out.add(v.path("query").path("query").asText());
      }
    });
    JsonNode rules = new ObjectMapper(new YAMLFactory())
        .readTree(OBSERVABILITY.resolve("prometheus-alerts.yaml").toFile());
    rules.path("groups").forEach(g -> g.path("rules").forEach(r -> out.add(r.path("expr").asText())));
    assertThat(out).as("expressions").hasSizeGreaterThan(10).allSatisfy(e -> assertThat(e).isNotBlank());
    return out;
  }

  static Set<String> names(String promql) {
    Set<String> names = new TreeSet<>();
    Matcher m = OUR_NAME.matcher(STRING.matcher(promql).replaceAll("\"\""));
    while (m.find()) {
      names.add(m.group());
    }
    assertThat(names).as("metric names in %s", promql).isNotEmpty();
    return names;
  }

  /** The series names the four services' /metrics declare, with a histogram's _bucket, _sum and _count. */
  static Set<String> exported() throws Exception {
    Set<String> names = new TreeSet<>();
    types().forEach((name, type) -> {
      if (type.equals("histogram")) {
        names.addAll(List.of(name + "_bucket", name + "_sum", name + "_count"));
      } else {
        names.add(name);
      }
    });
    return names;
  }

  /** The metric families the four services declare, as their README table names them (a counter with _total). */
  static Set<String> families() throws Exception {
    return new TreeSet<>(types().keySet());
  }

  private static Map<String, String> types() throws Exception {
    Map<String, String> types = new HashMap<>();
    for (int port : pipeline.get().metricsPorts().values()) {
      String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = TYPE.matcher(body);
      while (m.find()) {
        String name = m.group(1);
        types.put(m.group(2).equals("counter") && !name.endsWith("_total") ? name + "_total" : name, m.group(2));
      }
    }
    return types;
  }

  static void complete(String prompt, String traceparent) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + pipeline.get().gatewayPort() + "/v1/completions"))
        .header("Authorization", "Bearer " + pipeline.get().apiKey())
        .header("Content-Type", "application/json")
        .timeout(WAIT)
        .POST(HttpRequest.BodyPublishers.ofString(
            JSON.writeValueAsString(Map.of("prompt", prompt, "max_tokens", 4))));
    if (traceparent != null) {
      request.header(Tracing.HEADER, traceparent);
    }
    HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
  }

  /** The {@code traceparent} headers of every record on {@code topic} so far. */
  static List<String> traceparents(String topic) {
    List<String> found = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
        KafkaSettings.fromEnv(Env.of(pipeline.get().clientEnv())).consumer("observability-" + System.nanoTime(), "obs"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline
          && partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          found.add(Tracing.read(r.headers()));
        }
      }
    }
    return found;
  }

  static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new java.security.SecureRandom().nextBytes(b);
    b[0] |= 1; // never all zeros, which W3C reads as no trace
    return b;
  }

  /**
   * An OTLP/HTTP trace receiver: what a collector does with {@code POST /v1/traces}, reduced to the fields this test
   * reads. The protobuf is walked by hand (a dozen lines) rather than with the generated OTLP classes.
   */
  static final class OtlpReceiver implements BeforeAllCallback, AfterAllCallback {
    record Span(String service, String traceId, String spanId, String parentSpanId, String name) {}

    private final List<Span> spans = new CopyOnWriteArrayList<>();
    private HttpServer server;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
      server.createContext("/v1/traces", ex -> {
        try (InputStream in = ex.getRequestBody()) {
          read(in.readAllBytes());
        }
        ex.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        ex.sendResponseHeaders(200, -1); // an empty ExportTraceServiceResponse: everything accepted
        ex.close();
      });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    List<Span> spans() {
      return List.copyOf(spans);
    }

    /** ExportTraceServiceRequest: 1 resource_spans { 1 resource { 1 attributes }, 2 scope_spans { 2 spans } }. */
    private void read(byte[] request) {
      for (byte[] resourceSpans : fields(request).getOrDefault(1, List.of())) {
        Map<Integer, List<byte[]>> rs = fields(resourceSpans);
        String service = "";
        for (byte[] resource : rs.getOrDefault(1, List.of())) {
          for (byte[] attribute : fields(resource).getOrDefault(1, List.of())) {
            Map<Integer, List<byte[]>> kv = fields(attribute);
            if ("service.name".equals(text(kv, 1))) {
              service = text(fields(kv.get(2).get(0)), 1);
            }
          }
        }
        for (byte[] scopeSpans : rs.getOrDefault(2, List.of())) {
          for (byte[] span : fields(scopeSpans).getOrDefault(2, List.of())) {
            Map<Integer, List<byte[]>> s = fields(span);
            spans.add(new Span(service, hex(s, 1), hex(s, 2), hex(s, 4), text(s, 5)));
          }
        }
      }
    }

    /** The length-delimited fields of a protobuf message, by number; other wire types are skipped. */
    private static Map<Integer, List<byte[]>> fields(byte[] message) {
      Map<Integer, List<byte[]>> out = new HashMap<>();
      ByteBuffer in = ByteBuffer.wrap(message);
      while (in.hasRemaining()) {
        long tag = varint(in);
        int number = (int) (tag >>> 3);
        switch ((int) (tag & 7)) {
          case 0 -> varint(in);
          case 1 -> in.position(in.position() + 8);
          case 5 -> in.position(in.position() + 4);
          case 2 -> {
            byte[] value = new byte[(int) varint(in)];
            in.get(value);
            out.computeIfAbsent(number, n -> new ArrayList<>()).add(value);
          }
          default -> throw new IllegalArgumentException("wire type " + (tag & 7));
        }
      }
      return out;
    }

    private static long varint(ByteBuffer in) {
      long value = 0;
      for (int shift = 0; ; shift += 7) {
        byte b = in.get();
        value |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          return value;
        }
      }
    }

    private static String text(Map<Integer, List<byte[]>> fields, int number) {
      List<byte[]> v = fields.get(number);
      return v == null ? "" : new String(v.get(0), StandardCharsets.UTF_8);
    }

    private static String hex(Map<Integer, List<byte[]>> fields, int number) {
      List<byte[]> v = fields.get(number);
      return v == null ? "" : HexFormat.of().formatHex(v.get(0));
    }

    @Override
    public void afterAll(ExtensionContext context) {
      if (server != null) {
        server.stop(0);
      }
    }
  }
}
