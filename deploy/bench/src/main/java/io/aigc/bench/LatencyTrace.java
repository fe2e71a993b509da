package io.aigc.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.aigc.local.ProcessCluster;
import io.aigc.model.ModelDirectory;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.Completion;
import io.aigc.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Where the time of one request goes outside generation, hop by hop: a real broker and the four services as separate
 * processes, sequential requests over HTTP, and two taps on every topic of the request's way. One tap reads
 * uncommitted records (when each output was appended), the other reads committed ones (when the next stage could see
 * it, after the writer's transaction committed); both note the local time a record arrives, on the same clock as the
 * client and the services. The worker's own timings (queue, first token, decode) come with each completion.
 *
 * <pre>
 * LatencyTrace --model DIR [--requests 60] [--tokens 16] [--out target/bench]
 * </pre>
 *
 * Prints the median and 90th percentile of every hop and writes {@code trace.json}. Run it on an otherwise idle
 * machine: every figure shares its CPUs.
 */
public final class LatencyTrace {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final int WARM_UP = 200;

  /** When each hop of one request happened, in epoch microseconds. */
  record Trace(String id, long sent, long answered, long requestAppended, long tokenizedAppended,
      long tokenizedVisible, long prefillStart, long generationMicros, long generatedAppended, long firstStreamEvent,
      long completionAppended, long completionVisible) {}

  /** The hops, each a difference of two moments of a trace. */
  private static final Map<String, ToDoubleFunction<Trace>> HOPS = hops();

  private static Map<String, ToDoubleFunction<Trace>> hops() {
    Map<String, ToDoubleFunction<Trace>> hops = new LinkedHashMap<>();
    hops.put("client to the request's append", t -> t.requestAppended() - t.sent());
    hops.put("tokenizer: request to its output", t -> t.tokenizedAppended() - t.requestAppended());
    hops.put("tokenizer: output to its commit", t -> t.tokenizedVisible() - t.tokenizedAppended());
    hops.put("worker: commit to the prefill", t -> t.prefillStart() - t.tokenizedVisible());
    hops.put("worker: generation", t -> t.generationMicros());
    hops.put("worker: last token to its output", t -> t.generatedAppended() - t.prefillStart() - t.generationMicros());
    hops.put("postprocessor: input to its output", t -> t.completionAppended() - t.generatedAppended());
    hops.put("postprocessor: output to its commit", t -> t.completionVisible() - t.completionAppended());
    hops.put("gateway: commit to the client", t -> t.answered() - t.completionVisible());
    hops.put("first stream event after the prefill", t -> t.firstStreamEvent() - t.prefillStart());
    hops.put("outside generation", t -> t.answered() - t.sent() - t.generationMicros());
    hops.put("end to end", t -> t.answered() - t.sent());
    return hops;
  }

  private LatencyTrace() {}

  public static void main(String[] args) throws Exception {
    Path model = null;
    int requests = 60;
    int tokens = 16;
    Path out = Path.of("target", "bench");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--model" -> model = Path.of(args[++i]);
        case "--requests" -> requests = Integer.parseInt(args[++i]);
        case "--tokens" -> tokens = Integer.parseInt(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (model == null) {
      throw new IllegalArgumentException("--model DIR is required");
    }
    List<Trace> traces = run(model.toAbsolutePath(), requests, tokens, out.resolve("trace-cluster"));
    Map<String, Map<String, Double>> summary = new LinkedHashMap<>();
    System.out.printf("%n%d sequential requests, %d tokens each, on %s (ms)%n", traces.size(), tokens,
        model.getFileName());
    System.out.printf("%-40s %8s %8s%n", "hop", "p50", "p90");
    HOPS.forEach((name, hop) -> {
      List<Double> ms = traces.stream().map(t -> hop.applyAsDouble(t) / 1000.0).toList();
      double p50 = Stats.percentile(ms, 50);
      double p90 = Stats.percentile(ms, 90);
      summary.put(name, Map.of("p50", p50, "p90", p90));
      System.out.printf(Locale.ROOT, "%-40s %8.1f %8.1f%n", name, p50, p90);
    });
    Files.createDirectories(out);
    JSON.writeValue(out.resolve("trace.json").toFile(), Map.of("requests", traces.size(), "tokens", tokens,
        "model", model.getFileName().toString(), "hops", summary));
    System.out.println("wrote " + out.resolve("trace.json"));
  }

  static List<Trace> run(Path model, int requests, int tokens, Path home) throws Exception {
    ProcessCluster.Settings settings = Benchmark.processes(home, model, Map.of("AIGC_TOPIC_PARTITIONS", "4"));
    Topics topics = Topics.defaults();
    String tokenized = topics.tokenized(ModelDirectory.nameOf(model)).name();
    KafkaSettings kafka = KafkaSettings.fromEnv(Env.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", settings.bootstrapServers())));
    try (ProcessCluster cluster = ProcessCluster.start(settings)) {
      cluster.awaitReady(Duration.ofMinutes(3));
      List<String> names = List.of(topics.requests().name(), tokenized, topics.generated().name(),
          topics.completions().name(), topics.stream().name());
      try (Tap appended = new Tap(kafka, names, "read_uncommitted");
          Tap visible = new Tap(kafka, names, "read_committed")) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String body = JSON.writeValueAsString(Map.of("prompt", Benchmark.PROMPT, "max_tokens", tokens,
            "temperature", 0, "ignore_eos", true));
        URI uri = URI.create("http://127.0.0.1:" + settings.httpPort() + "/v1/completions");
        List<Trace> traces = new ArrayList<>();
        for (int i = 0; i < requests + WARM_UP; i++) {
          long sent = micros(Instant.now());
          HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri)
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofString());
          long answered = micros(Instant.now());
          if (response.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + response.statusCode() + ": " + response.body());
          }
          String id = JSON.readTree(response.body()).get("id").asText();
          Completion completion = visible.await(topics.completions().name(), id, topics).completion();
          if (i < WARM_UP) {
            continue; // classes load, caches fill, consumer groups settle, and the five JVMs compile the hot paths
          }
          long created = completion.getCreatedAt() * 1000;
          long prefill = created + completion.getTimings().getQueueMs() * 1000;
          long generation = (completion.getTimings().getTimeToFirstTokenMs()
              + completion.getTimings().getDecodeMs()) * 1000;
          traces.add(new Trace(id, sent, answered,
              appended.await(topics.requests().name(), id, topics).at(),
              appended.await(tokenized, id, topics).at(),
              visible.await(tokenized, id, topics).at(), prefill, generation,
              appended.await(topics.generated().name(), id, topics).at(),
              appended.await(topics.stream().name(), id, topics).at(),
              appended.await(topics.completions().name(), id, topics).at(),
              visible.await(topics.completions().name(), id, topics).at()));
        }
        return traces;
      }
    }
  }

  static long micros(Instant at) {
    return at.getEpochSecond() * 1_000_000 + at.getNano() / 1000;
  }

  /** A record's first arrival at a tap: when, and its completion when it is one. */
  record Seen(long at, Completion completion) {}

  /** Every partition of the topics from their end, noting when each key first arrives per topic. */
  private static final class Tap implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    Tap(KafkaSettings kafka, List<String> topics, String isolation) {
      Map<String, Object> props = kafka.consumer(null, "latency-trace-" + isolation);
      props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
      props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
      this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : topics) {
        consumer.partitionsFor(topic, Duration.ofSeconds(30))
            .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // resolve the end now, before any traced request is sent
      Topics names = Topics.defaults();
      this.thread = new Thread(() -> {
        while (running) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(50))) {
            long at = micros(Instant.now());
            Completion completion = r.topic().equals(names.completions().name())
                ? names.completions().valueSerde().decode(r.value()) : null;
            seen.putIfAbsent(r.topic() + "/" + r.key(), new Seen(at, completion));
          }
        }
        consumer.close();
      }, "tap-" + isolation);
      thread.start();
    }

    /** The first arrival of {@code id} on {@code topic}, waiting for it up to a minute. */
    Seen await(String topic, String id, Topics topics) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      Seen s;
      while ((s = seen.get(topic + "/" + id)) == null) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(id + " never arrived on " + topic);
        }
        Thread.sleep(1); // the tap's thread fills the map: nothing to await but its progress
      }
      return s;
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(5_000);
    }
  }
}
