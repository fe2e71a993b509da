package io.aigc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.aigc.engine.DirectDecoder;
import io.aigc.engine.EngineMetrics;
import io.aigc.engine.EngineSettings;
import io.aigc.engine.GenerationEngine;
import io.aigc.engine.GenerationListener;
import io.aigc.engine.GenerationOutcome;
import io.aigc.engine.GenerationTask;
import io.aigc.engine.OnnxModel;
import io.aigc.local.CompletionsChecker;
import io.aigc.local.ProcessCluster;
import io.aigc.model.ModelDirectory;
import io.aigc.model.SamplingParams;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.Completion;
import io.aigc.schemas.Topics;
import io.aigc.text.TextTokenizer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Measures, in one run and on the same model, side by side:
 * <ol>
 *   <li><b>the limit</b>: the plainest KV-cached decode loop over a static batch ({@link DirectDecoder}), no Kafka,
 *       no services, at each batch size: what the model itself can do on this machine;
 *   <li><b>the worker alone</b>: the {@link GenerationEngine} fed in-process by a closed loop of callers;
 *   <li><b>the whole pipeline</b>: a real broker and the four services as separate processes, fed over HTTP by a
 *       closed loop of callers, with each service's peak heap and RSS.
 * </ol>
 * Every request has the same prompt and generates exactly {@code --tokens} tokens greedily ({@code ignore_eos}),
 * so tokens per second compare across the three. Prints tables and writes {@code summary.json}.
 *
 * <pre>
 * Benchmark --model DIR [--model DIR ...] [--levels 1,4,16,64] [--seconds 20] [--tokens 64]
 *           [--soak-seconds 0] [--overload-seconds 0] [--workers 1,2,3 | none] [--scale-out-only] [--out target/bench]
 * </pre>
 */
public final class Benchmark {
  static final String PROMPT = "Licensed under the Apache License, Version 2.0, you may not use this file except in "
      + "compliance with the License.";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * @param workers the pool sizes of the scale-out rows, on the first model (empty: none)
   * @param scaleOutOnly only those rows, not the limit, worker and pipeline ones
   */
  record Options(List<Path> models, List<Integer> levels, Duration window, int tokens, Duration soak,
      Duration overload, Path out, List<Integer> workers, boolean scaleOutOnly) {}

  /** A row of the limit: a static batch of {@code batch} sequences. */
  record LimitRow(int batch, double tokensPerSecond, double generationMs, double timeToFirstTokenMs) {}

  /** A row of a closed-loop load. */
  /** One request's times as the worker saw them: waiting, prefill to first token, and the rest of its tokens. */
  record WorkerTiming(long createdAtMs, long queueMs, long timeToFirstTokenMs, long decodeMs) {
    long generationMs() {
      return timeToFirstTokenMs + decodeMs;
    }
  }

  /**
   * One level of load. {@code generationP50} is the time the worker spent generating a request (prefill and decode),
   * {@code outsideP50} the rest of its end-to-end latency (the Kafka hops, the services, HTTP), per request.
   */
  record LoadRow(int concurrency, double tokensPerSecond, double requestsPerSecond, double ttftP50, double ttftP99,
      double latencyP50, double latencyP99, double generationP50, double outsideP50, int requests) {
    static LoadRow of(ClosedLoop.Measurement m, Map<String, WorkerTiming> timings) {
      List<Double> ttft = new ArrayList<>();
      List<Double> generation = new ArrayList<>();
      List<Double> outside = new ArrayList<>();
      for (ClosedLoop.Done d : m.done()) {
        WorkerTiming t = timings.get(d.id());
        if (t != null) {
          ttft.add((double) t.queueMs() + t.timeToFirstTokenMs());
          generation.add((double) t.generationMs());
          outside.add(d.latencyMs() - t.generationMs());
        }
      }
      return new LoadRow(m.clients(), m.tokensPerSecond(), m.requestsPerSecond(), Stats.percentile(ttft, 50),
          Stats.percentile(ttft, 99), m.latencyMs(50), m.latencyMs(99), Stats.percentile(generation, 50),
          Stats.percentile(outside, 50), m.done().size());
    }
  }

  record Memory(String service, double peakHeapMb, double peakRssMb) {}

  /**
   * The worker's memory over a long run: average RSS, and the heap's floor (its lowest sample, what survives garbage
   * collection), in the first and the last minute.
   */
  record Soak(double seconds, double firstMinuteRssMb, double lastMinuteRssMb, double firstMinuteHeapFloorMb,
      double lastMinuteHeapFloorMb, long requests) {}

  /** Open-loop jobs at twice the sustainable rate: what was accepted and refused, the gateway's heap, and the check. */
  record Overload(double seconds, double offeredPerSecond, long accepted, long rejected, long failed,
      double gatewayHeapFloorFirstMinuteMb, double gatewayHeapFloorLastMinuteMb, double gatewayPeakHeapMb, int missing,
      int doubled) {}

  record ModelReport(String model, long parameters, int promptTokens, int tokensPerRequest, List<LimitRow> limit,
      List<LoadRow> worker, List<LoadRow> pipeline, List<StreamedCalls.Row> streamed, List<Memory> memory, Soak soak,
      Overload overload) {

    LimitRow limitAt(int batch) {
      return limit.stream().filter(r -> r.batch() == batch).findFirst().orElseThrow();
    }

    LoadRow pipelineAt(int concurrency) {
      return pipeline.stream().filter(r -> r.concurrency() == concurrency).findFirst().orElseThrow();
    }

    double pipelineEfficiency() {
      return pipelineAt(16).tokensPerSecond() / limitAt(16).tokensPerSecond();
    }

    double batchingSpeedup() {
      return pipelineAt(16).tokensPerSecond() / pipelineAt(1).tokensPerSecond();
    }

    double addedLatencyMsP50() {
      return pipelineAt(1).latencyP50() - limitAt(1).generationMs();
    }

    /** The part of the added latency spent outside generation: Kafka, the other services, HTTP. */
    double outsideGenerationMsP50() {
      return pipelineAt(1).outsideP50();
    }

    /** The other part: the same generation, slower beside the broker and three services on the same cores. */
    double slowerGenerationMsP50() {
      return pipelineAt(1).generationP50() - limitAt(1).generationMs();
    }
  }

  private Benchmark() {}

  public static void main(String[] args) throws Exception {
    Options options = parse(args);
    Files.createDirectories(options.out());
    List<ModelReport> reports = new ArrayList<>();
    for (int i = 0; !options.scaleOutOnly() && i < options.models().size(); i++) {
      // The memory soak and the overload run on the last (largest) model: there the worker holds the most, and an
      // open loop at twice its rate builds a backlog the load generator itself has CPU to offer.
      boolean last = i == options.models().size() - 1;
      ModelReport report = measure(options, options.models().get(i), last ? options.soak() : Duration.ZERO,
          last ? options.overload() : Duration.ZERO);
      reports.add(report);
      print(report);
    }
    // One model's pool at several sizes, on the first (smallest) model: the pool's sharing, not the model, is measured.
    List<ScaleOut.Row> scaleOut = options.workers().isEmpty() ? List.of()
        : ScaleOut.measure(options.models().get(0), options.workers(), 16, options.window(), options.tokens(),
            options.out());
    if (!scaleOut.isEmpty()) {
      ScaleOut.print(scaleOut);
    }
    Map<String, Object> result = reports.isEmpty() ? new LinkedHashMap<>() : summary(reports);
    if (!scaleOut.isEmpty()) {
      result.put("scale_out", ScaleOut.summary(scaleOut));
    }
    Path summary = options.out().resolve("summary.json");
    Files.writeString(summary, JSON.writeValueAsString(result));
    System.out.println("\nwrote " + summary);
  }

  static ModelReport measure(Options options, Path modelDir, Duration soak, Duration overload) throws Exception {
    ModelDirectory dir = ModelDirectory.open(modelDir);
    int tokens = options.tokens();
    List<Integer> levels = options.levels();
    System.out.printf("%n== %s: limit, worker alone, pipeline at concurrency %s, %d tokens per request%n",
        dir.name(), levels, tokens);
    List<LimitRow> limit = new ArrayList<>();
    List<LoadRow> worker = new ArrayList<>();
    int[] prompt;
    long parameters = Files.size(dir.onnxFile()) / 4;
    try (TextTokenizer tokenizer = TextTokenizer.load(dir);
        OnnxModel model = OnnxModel.open(dir, OnnxModel.SessionSettings.cpu())) {
      prompt = tokenizer.encode(PROMPT);
      // 1. The limit: a static batch, one ONNX run per token, nothing else.
      for (int batch : levels) {
        List<int[]> prompts = Collections.nCopies(batch, prompt);
        // Warm up (the JIT compiles the loop, ONNX Runtime sizes its arenas), then measure for a while.
        repeat(Duration.ofMillis(1500), 2, () -> DirectDecoder.timed(model, prompts, tokens, false));
        List<DirectDecoder.Run> runs = repeat(Duration.ofSeconds(3), 3,
            () -> DirectDecoder.timed(model, prompts, tokens, false));
        double totalMs = runs.stream().mapToLong(DirectDecoder.Run::totalNanos).average().orElseThrow() / 1e6;
        double prefillMs = runs.stream().mapToLong(DirectDecoder.Run::prefillNanos).average().orElseThrow() / 1e6;
        limit.add(new LimitRow(batch, batch * tokens / (totalMs / 1000), totalMs, prefillMs));
        System.out.printf("  limit    batch %3d: %8.1f tokens/s%n", batch, batch * tokens / (totalMs / 1000));
      }
      // 2. The worker alone: the engine, fed in-process.
      GenerationEngine engine = new GenerationEngine(model, tokenizer,
          new EngineSettings(Collections.max(levels), 2L << 30, 4096), EngineMetrics.NONE).start();
      try {
        SamplingParams params = SamplingParams.greedy(tokens).toBuilder().ignoreEos(true).build();
        for (int c : levels) {
          Map<String, WorkerTiming> timings = new ConcurrentHashMap<>();
          Duration requestTime = Duration.ofMillis((long) limitFor(limit, c).generationMs());
          ClosedLoop.Measurement m = ClosedLoop.run(c, warmup(requestTime), window(options, requestTime),
              requestTime, () -> {
                String id = UUID.randomUUID().toString();
                CompletableFuture<GenerationOutcome> outcome = new CompletableFuture<>();
                engine.submit(new GenerationTask(id, prompt, params, Instant.now(), null,
                    GenerationListener.onFinished(outcome::complete)));
                GenerationOutcome o = outcome.get(10, TimeUnit.MINUTES);
                if (o.isFailure()) {
                  throw new IllegalStateException(o.failure() + ": " + o.message());
                }
                timings.put(id, new WorkerTiming(0, o.queueMs(), o.timeToFirstTokenMs(), o.decodeMs()));
                return new ClosedLoop.Result(o.choices().get(0).tokens().length, id);
              });
          worker.add(LoadRow.of(m, timings));
          System.out.printf("  worker   conc  %3d: %8.1f tokens/s%n", c, m.tokensPerSecond());
        }
      } finally {
        engine.close();
      }
    }
    // 3. The whole pipeline, each service its own process, over HTTP.
    PipelineResult pipeline = measurePipeline(options, dir, limit, soak, overload);
    return new ModelReport(dir.name(), parameters, prompt.length, tokens, limit, worker, pipeline.rows(),
        pipeline.streamed(), pipeline.memory(), pipeline.soak(), pipeline.overload());
  }

  record PipelineResult(List<LoadRow> rows, List<StreamedCalls.Row> streamed, List<Memory> memory, Soak soak,
      Overload overload) {}

  static PipelineResult measurePipeline(Options options, ModelDirectory dir, List<LimitRow> limit, Duration soak,
      Duration overload) throws Exception {
    ProcessCluster.Settings settings = processes(options.out().resolve(dir.name()).resolve("cluster"), dir.path(),
        Map.of(
            "AIGC_MAX_BATCH", String.valueOf(Collections.max(options.levels())),
            "AIGC_SYNC_TIMEOUT", "10m",
            // A small backlog bound, so the overload run meets it within minutes and drains quickly afterwards.
            "AIGC_MAX_BACKLOG", "500",
            "AIGC_TOPIC_PARTITIONS", "4"));
    List<LoadRow> rows = new ArrayList<>();
    Map<String, WorkerTiming> byId = new ConcurrentHashMap<>();
    try (ProcessCluster cluster = ProcessCluster.start(settings);
        CompletionTimings timings = new CompletionTimings(settings.bootstrapServers(), byId)) {
      cluster.awaitReady(Duration.ofMinutes(3));
      List<MemorySampler.Target> targets = new ArrayList<>();
      for (String service : ProcessCluster.SERVICES) {
        int port = service.equals("gateway") ? settings.httpPort() : settings.metricsPorts().get(service);
        targets.add(new MemorySampler.Target(service, () -> cluster.pid(service).stream().boxed().findFirst()
            .orElse(null), port));
      }
      HttpClient http = httpClient();
      Map<String, Object> request = completionBody(options.tokens());
      ClosedLoop.Call call = completionCall(http, settings.httpPort(), request);
      // Warm-up: the first requests load classes, fill caches and settle consumer groups, and for many seconds after,
      // five JVMs compile the hot paths on the same cores: a level measured then pays for the JIT. Both kinds of call,
      // at a little concurrency, until the pipeline has answered a few hundred requests or a minute has passed.
      StreamedCalls warmStreamed = new StreamedCalls(http,
          URI.create("http://127.0.0.1:" + settings.httpPort() + "/v1/completions"), request);
      long warmUntil = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      int warmed = 0;
      while (warmed < 300 && System.nanoTime() < warmUntil) {
        call.call();
        warmStreamed.call();
        warmed += 2;
      }
      List<Memory> memory = new ArrayList<>();
      try (MemorySampler sampler = new MemorySampler(targets, Duration.ofMillis(500))) {
        for (int c : options.levels()) {
          Duration requestTime = Duration.ofMillis((long) limitFor(limit, c).generationMs());
          ClosedLoop.Measurement m = ClosedLoop.run(c, warmup(requestTime), window(options, requestTime),
              requestTime, call);
          timings.awaitAll(m.done().stream().map(ClosedLoop.Done::id).toList(), Duration.ofSeconds(30));
          rows.add(LoadRow.of(m, byId));
          System.out.printf("  pipeline conc  %3d: %8.1f tokens/s%n", c, m.tokensPerSecond());
        }
        for (String service : ProcessCluster.SERVICES) {
          long rss = MemorySampler.peakRss(cluster.pid(service).orElse(-1));
          memory.add(new Memory(service, sampler.peakHeapBytes(service) / 1048576.0, rss / 1048576.0));
        }
      }
      // The same requests streamed over SSE, at 1 and 16, beside their non-streamed rows.
      List<StreamedCalls.Row> streamed = new ArrayList<>();
      StreamedCalls calls = new StreamedCalls(http,
          URI.create("http://127.0.0.1:" + settings.httpPort() + "/v1/completions"), request);
      for (int c : options.levels().stream().filter(c -> c == 1 || c == 16).toList()) {
        Duration requestTime = Duration.ofMillis((long) limitFor(limit, c).generationMs());
        ClosedLoop.Measurement m = ClosedLoop.run(c, warmup(requestTime), window(options, requestTime),
            requestTime, calls::call);
        timings.awaitAll(m.done().stream().map(ClosedLoop.Done::id).toList(), Duration.ofSeconds(30));
        streamed.add(calls.row(m, byId));
        System.out.printf("  streamed conc  %3d: %8.1f tokens/s%n", c, m.tokensPerSecond());
      }
      Soak soakResult = null;
      if (!soak.isZero()) {
        soakResult = soak(cluster, targets, call, soak);
      }
      Overload overloadResult = null;
      if (!overload.isZero()) {
        // The most the pipeline answered at any concurrency: anything above it can only queue.
        double sustainable = rows.stream().mapToDouble(LoadRow::requestsPerSecond).max().orElseThrow();
        overloadResult = overload(cluster, targets, http, options, 2 * sustainable, overload);
      }
      return new PipelineResult(rows, streamed, memory, soakResult, overloadResult);
    }
  }

  /** Runs the pipeline at concurrency 16 for {@code length}, watching the worker's memory every five seconds. */
  private static Soak soak(ProcessCluster cluster, List<MemorySampler.Target> targets, ClosedLoop.Call call,
      Duration length) throws InterruptedException {
    System.out.printf("  soak: concurrency 16 for %d s, sampling the worker's memory%n", length.toSeconds());
    List<MemorySampler.Target> worker = targets.stream().filter(t -> t.name().equals("inference-worker")).toList();
    try (MemorySampler sampler = new MemorySampler(worker, Duration.ofSeconds(5))) {
      ClosedLoop.Measurement m = ClosedLoop.run(16, Duration.ZERO, length, Duration.ofSeconds(1), call);
      List<MemorySampler.Sample> series = sampler.series("inference-worker");
      long endMs = series.get(series.size() - 1).atMillis();
      List<MemorySampler.Sample> first = series.stream().filter(s -> s.atMillis() <= 60_000).toList();
      List<MemorySampler.Sample> lastMinute = series.stream().filter(s -> s.atMillis() >= endMs - 60_000).toList();
      return new Soak(length.toSeconds(), mb(first, MemorySampler.Sample::rssBytes),
          mb(lastMinute, MemorySampler.Sample::rssBytes), heapFloorMb(first), heapFloorMb(lastMinute), m.done().size());
    }
  }

  /**
   * Jobs offered at {@code rate} per second whatever the answers (an open loop, as upstream systems publish), for
   * {@code length}: the gateway must refuse what the pipeline cannot take (429) rather than grow, and every job it
   * accepted must complete exactly once.
   */
  private static Overload overload(ProcessCluster cluster, List<MemorySampler.Target> targets, HttpClient http,
      Options options, double rate, Duration length) throws Exception {
    System.out.printf(Locale.ROOT, "  overload: %.1f jobs/s (twice the sustainable rate) for %d s%n", rate,
        length.toSeconds());
    String body = JSON.writeValueAsString(Map.of("prompt", PROMPT, "max_tokens", options.tokens(),
        "temperature", 0, "ignore_eos", true));
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + cluster.settings().httpPort() + "/v1/jobs"))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    AtomicLong rejected = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    List<MemorySampler.Target> gateway = targets.stream().filter(t -> t.name().equals("gateway")).toList();
    long sent = 0;
    List<CompletableFuture<Void>> answers = new ArrayList<>();
    try (MemorySampler sampler = new MemorySampler(gateway, Duration.ofSeconds(1))) {
      long start = System.nanoTime();
      long end = start + length.toNanos();
      while (System.nanoTime() < end) {
        long due = start + (long) (sent * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait); // pacing an open-loop load
        }
        sent++;
        answers.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((r, e) -> {
          if (e != null) {
            failed.incrementAndGet();
          } else if (r.statusCode() == 202) {
            try {
              accepted.add(JSON.readTree(r.body()).get("id").asText());
            } catch (IOException ex) {
              failed.incrementAndGet();
            }
          } else if (r.statusCode() == 429) {
            rejected.incrementAndGet();
          } else {
            failed.incrementAndGet();
          }
          return null;
        }));
      }
      CompletableFuture.allOf(answers.toArray(new CompletableFuture[0])).join();
      List<MemorySampler.Sample> series = sampler.series("gateway");
      long lastMs = series.get(series.size() - 1).atMillis();
      double first = heapFloorMb(series.stream().filter(x -> x.atMillis() <= 60_000).toList());
      double lastMinute = heapFloorMb(series.stream().filter(x -> x.atMillis() >= lastMs - 60_000).toList());
      CompletionsChecker.Report report = CompletionsChecker.check(cluster.settings().bootstrapServers(),
          List.copyOf(accepted), Duration.ofMinutes(10));
      return new Overload(length.toSeconds(), rate, accepted.size(), rejected.get(), failed.get(), first, lastMinute,
          sampler.peakHeapBytes("gateway") / 1048576.0, report.missing().size(), report.doubled().size());
    }
  }

  private static double mb(List<MemorySampler.Sample> samples, ToLongFunction<MemorySampler.Sample> f) {
    return samples.stream().mapToLong(f).average().orElse(Double.NaN) / 1048576.0;
  }

  /** The lowest heap sampled: heap in use swings with garbage between collections, its floor is what is retained. */
  private static double heapFloorMb(List<MemorySampler.Sample> samples) {
    return samples.stream().mapToLong(MemorySampler.Sample::heapBytes).filter(b -> b > 0).min().orElse(0) / 1048576.0;
  }

  /** Reads every completion's timings, as the worker saw them. */
  private static final class CompletionTimings implements AutoCloseable {
    private final Map<String, WorkerTiming> byId;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;

    CompletionTimings(String bootstrap, Map<String, WorkerTiming> byId) {
      this.byId = byId;
      Topics topics = Topics.defaults();
      this.consumer = new KafkaConsumer<>(KafkaSettings.fromEnv(Env.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", bootstrap)))
          .consumer("bench-" + System.nanoTime(), "bench"), new StringDeserializer(), new ByteArrayDeserializer());
      this.thread = new Thread(() -> {
        consumer.subscribe(List.of(topics.completions().name()));
        while (running) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            Completion c = topics.completions().valueSerde().decode(r.value());
            if (c.getTimings() != null) {
              byId.put(c.getRequestId(), new WorkerTiming(c.getCreatedAt(), c.getTimings().getQueueMs(),
                  c.getTimings().getTimeToFirstTokenMs(), c.getTimings().getDecodeMs()));
            }
          }
        }
        consumer.close();
      }, "completion-timings");
      thread.start();
    }

    void awaitAll(List<String> ids, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!byId.keySet().containsAll(ids) && System.nanoTime() < deadline) {
        Thread.sleep(100); // the consumer thread fills the map: nothing to await but its progress
      }
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(5_000);
    }
  }

  interface Timed {
    DirectDecoder.Run run() throws Exception;
  }

  /** Runs {@code what} at least {@code times} times and for at least {@code atLeast}. */
  private static List<DirectDecoder.Run> repeat(Duration atLeast, int times, Timed what) throws Exception {
    List<DirectDecoder.Run> runs = new ArrayList<>();
    long end = System.nanoTime() + atLeast.toNanos();
    while (runs.size() < times || System.nanoTime() < end) {
      runs.add(what.run());
    }
    return runs;
  }

  private static LimitRow limitFor(List<LimitRow> limit, int batch) {
    return limit.stream().filter(r -> r.batch() == batch).findFirst().orElseThrow();
  }

  /** Long enough for the loop to settle: one request's time, and at least two seconds. */
  private static Duration warmup(Duration requestTime) {
    return Duration.ofMillis(Math.max(2_000, requestTime.toMillis()));
  }

  /** The window, and at least three requests long, so every client finishes several requests in it. */
  private static Duration window(Options options, Duration requestTime) {
    return Duration.ofMillis(Math.max(options.window().toMillis(), 3 * requestTime.toMillis()));
  }

  // ---- output ----

  static void print(ModelReport r) {
    System.out.printf(Locale.ROOT, "%n%s (%,d parameters; prompt %d tokens; %d generated tokens per request)%n",
        r.model(), r.parameters(), r.promptTokens(), r.tokensPerRequest());
    System.out.println("conc | limit tok/s | worker tok/s | pipeline tok/s  req/s | TTFT p50/p99 ms | "
        + "latency p50/p99 ms | pipeline/limit");
    for (LoadRow p : r.pipeline()) {
      LimitRow l = r.limitAt(p.concurrency());
      LoadRow w = r.worker().stream().filter(x -> x.concurrency() == p.concurrency()).findFirst().orElseThrow();
      System.out.printf(Locale.ROOT, "%4d | %11.1f | %12.1f | %14.1f %6.2f | %7.0f /%6.0f | %8.0f /%8.0f | %6.2f%n",
          p.concurrency(), l.tokensPerSecond(), w.tokensPerSecond(), p.tokensPerSecond(), p.requestsPerSecond(),
          p.ttftP50(), p.ttftP99(), p.latencyP50(), p.latencyP99(), p.tokensPerSecond() / l.tokensPerSecond());
    }
    if (!r.streamed().isEmpty()) {
      System.out.println("streamed (SSE): conc | tok/s | streamed/whole | client first token p50 ms | after the "
          + "worker's own p50 ms | inter-token p50 ms | worker per token p50 ms");
      for (StreamedCalls.Row s : r.streamed()) {
        System.out.printf(Locale.ROOT, "%20d | %7.1f | %14.2f | %25.1f | %24.1f | %18.2f | %23.2f%n",
            s.concurrency(), s.tokensPerSecond(), s.tokensPerSecond() / r.pipelineAt(s.concurrency()).tokensPerSecond(),
            s.clientFirstTokenP50(), s.firstTokenLagP50(), s.interTokenP50(), s.workerStepP50());
      }
    }
    System.out.println("service           | peak heap MB | peak RSS MB");
    for (Memory m : r.memory()) {
      System.out.printf(Locale.ROOT, "%-17s | %12.0f | %11.0f%n", m.service(), m.peakHeapMb(), m.peakRssMb());
    }
    System.out.printf(Locale.ROOT, "pipeline efficiency at 16: %.2f; batching speedup 16 vs 1: %.2fx; added latency "
        + "p50 at 1: %.0f ms (pipeline %.0f ms - model %.0f ms) = %.0f ms outside generation (Kafka, services, HTTP) "
        + "+ %.0f ms slower generation on shared cores%n", r.pipelineEfficiency(), r.batchingSpeedup(),
        r.addedLatencyMsP50(), r.pipelineAt(1).latencyP50(), r.limitAt(1).generationMs(), r.outsideGenerationMsP50(),
        r.slowerGenerationMsP50());
    if (r.overload() != null) {
      Overload o = r.overload();
      System.out.printf(Locale.ROOT, "overload %.0f s at %.1f jobs/s: %d accepted, %d refused with 429, %d failed; "
          + "gateway heap floor %.0f MB in the first minute, %.0f MB in the last (peak %.0f MB); accepted jobs without a "
          + "completion: %d, with more than one: %d%n", o.seconds(), o.offeredPerSecond(), o.accepted(), o.rejected(),
          o.failed(), o.gatewayHeapFloorFirstMinuteMb(), o.gatewayHeapFloorLastMinuteMb(), o.gatewayPeakHeapMb(), o.missing(),
          o.doubled());
    }
    if (r.soak() != null) {
      Soak s = r.soak();
      System.out.printf(Locale.ROOT, "soak %.0f s (%d requests): worker RSS %.0f MB in the first minute, %.0f MB in the "
          + "last; heap floor %.0f MB, %.0f MB%n", s.seconds(), s.requests(), s.firstMinuteRssMb(), s.lastMinuteRssMb(),
          s.firstMinuteHeapFloorMb(), s.lastMinuteHeapFloorMb());
    }
  }

  /** summary.json: the last (largest) model's figures at the top, every model's rows below. */
  static Map<String, Object> summary(List<ModelReport> reports) {
    ModelReport main = reports.get(reports.size() - 1);
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("model", main.model());
    summary.putAll(figures(main));
    summary.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
        "java", System.getProperty("java.version"), "os", System.getProperty("os.name") + " "
            + System.getProperty("os.arch"), "date", Instant.now().toString()));
    List<Map<String, Object>> models = new ArrayList<>();
    for (ModelReport r : reports) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", r.model());
      m.put("parameters", r.parameters());
      m.put("prompt_tokens", r.promptTokens());
      m.put("tokens_per_request", r.tokensPerRequest());
      m.putAll(figures(r));
      m.put("memory", r.memory().stream().map(x -> Map.of("service", x.service(),
          "peak_heap_mb", round(x.peakHeapMb()), "peak_rss_mb", round(x.peakRssMb()))).toList());
      if (r.soak() != null) {
        Soak s = r.soak();
        m.put("soak", Map.of("seconds", s.seconds(), "requests", s.requests(),
            "worker_rss_mb_first_minute", round(s.firstMinuteRssMb()),
            "worker_rss_mb_last_minute", round(s.lastMinuteRssMb()),
            "worker_heap_floor_mb_first_minute", round(s.firstMinuteHeapFloorMb()),
            "worker_heap_floor_mb_last_minute", round(s.lastMinuteHeapFloorMb())));
      }
      if (r.overload() != null) {
        Overload o = r.overload();
        Map<String, Object> ov = new LinkedHashMap<>();
        ov.put("seconds", o.seconds());
        ov.put("offered_jobs_per_s", round(o.offeredPerSecond()));
        ov.put("accepted", o.accepted());
        ov.put("rejected_429", o.rejected());
        ov.put("failed", o.failed());
        ov.put("gateway_heap_floor_mb_first_minute", round(o.gatewayHeapFloorFirstMinuteMb()));
        ov.put("gateway_heap_floor_mb_last_minute", round(o.gatewayHeapFloorLastMinuteMb()));
        ov.put("gateway_peak_heap_mb", round(o.gatewayPeakHeapMb()));
        ov.put("accepted_without_completion", o.missing());
        ov.put("ids_with_several_completions", o.doubled());
        m.put("overload", ov);
      }
      models.add(m);
    }
    summary.put("models", models);
    return summary;
  }

  /** A model's headline figures, then its rows. */
  private static Map<String, Object> figures(ModelReport r) {
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("pipeline_efficiency", round(r.pipelineEfficiency()));
    figures.put("batching_speedup", round(r.batchingSpeedup()));
    figures.put("added_latency_ms_p50", round(r.addedLatencyMsP50()));
    figures.put("added_latency_outside_generation_ms_p50", round(r.outsideGenerationMsP50()));
    figures.put("added_latency_slower_generation_ms_p50", round(r.slowerGenerationMsP50()));
    figures.put("rows", rows(r));
    return figures;
  }

  private static List<Map<String, Object>> rows(ModelReport r) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (LoadRow p : r.pipeline()) {
      LimitRow l = r.limitAt(p.concurrency());
      LoadRow w = r.worker().stream().filter(x -> x.concurrency() == p.concurrency()).findFirst().orElseThrow();
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("concurrency", p.concurrency());
      row.put("limit_tokens_per_s", round(l.tokensPerSecond()));
      row.put("limit_generation_ms", round(l.generationMs()));
      row.put("limit_ttft_ms", round(l.timeToFirstTokenMs()));
      row.put("worker_tokens_per_s", round(w.tokensPerSecond()));
      row.put("worker_ttft_ms_p50", round(w.ttftP50()));
      row.put("worker_latency_ms_p50", round(w.latencyP50()));
      row.put("pipeline_tokens_per_s", round(p.tokensPerSecond()));
      row.put("pipeline_requests_per_s", round(p.requestsPerSecond()));
      row.put("pipeline_ttft_ms_p50", round(p.ttftP50()));
      row.put("pipeline_ttft_ms_p99", round(p.ttftP99()));
      row.put("pipeline_latency_ms_p50", round(p.latencyP50()));
      row.put("pipeline_latency_ms_p99", round(p.latencyP99()));
      row.put("pipeline_generation_ms_p50", round(p.generationP50()));
      row.put("pipeline_outside_generation_ms_p50", round(p.outsideP50()));
      row.put("pipeline_requests_measured", p.requests());
      row.put("pipeline_efficiency", round(p.tokensPerSecond() / l.tokensPerSecond()));
      r.streamed().stream().filter(s -> s.concurrency() == p.concurrency()).findFirst().ifPresent(s -> {
        row.put("streamed_tokens_per_s", round(s.tokensPerSecond()));
        row.put("streamed_over_whole", round(s.tokensPerSecond() / p.tokensPerSecond()));
        row.put("streamed_client_first_token_ms_p50", round(s.clientFirstTokenP50()));
        row.put("streamed_first_token_after_worker_ms_p50", round(s.firstTokenLagP50()));
        row.put("streamed_inter_token_ms_p50", round(s.interTokenP50()));
        row.put("worker_ms_per_token_p50", round(s.workerStepP50()));
      });
      rows.add(row);
    }
    return rows;
  }

  private static double round(double v) {
    return Double.isNaN(v) ? v : Math.round(v * 100) / 100.0;
  }

  // ---- plumbing ----

  static Options parse(String[] args) {
    List<Path> models = new ArrayList<>();
    List<Integer> levels = List.of(1, 4, 16, 64);
    Duration window = Duration.ofSeconds(20);
    int tokens = 64;
    Duration soak = Duration.ZERO;
    Duration overload = Duration.ZERO;
    Path out = Path.of("target", "bench");
    List<Integer> workers = List.of(1, 2, 3);
    boolean scaleOutOnly = false;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      if (args[i].equals("--scale-out-only")) {
        scaleOutOnly = true;
        continue;
      }
      switch (args[i]) {
        case "--workers" -> workers = value.equals("none") ? List.of()
            : Stream.of(value.split(",")).map(String::trim).map(Integer::valueOf).sorted().toList();
        case "--model" -> models.add(Path.of(value));
        case "--levels" -> levels = Stream.of(value.split(",")).map(String::trim).map(Integer::valueOf).sorted().toList();
        case "--seconds" -> window = Duration.ofSeconds(Long.parseLong(value));
        case "--tokens" -> tokens = Integer.parseInt(value);
        case "--soak-seconds" -> soak = Duration.ofSeconds(Long.parseLong(value));
        case "--overload-seconds" -> overload = Duration.ofSeconds(Long.parseLong(value));
        case "--out" -> out = Path.of(value);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
      i++;
    }
    if (models.isEmpty()) {
      models = List.of(Path.of("models", "tiny-llama"));
    }
    if (!levels.contains(1) || !levels.contains(16)) {
      throw new IllegalArgumentException("--levels must include 1 and 16: the summary compares them");
    }
    if (scaleOutOnly && workers.isEmpty()) {
      throw new IllegalArgumentException("--scale-out-only needs --workers");
    }
    return new Options(models, levels, window, tokens, soak, overload, out, workers, scaleOutOnly);
  }

  /**
   * The broker and the four services each their own process, in {@code home} (emptied first), on free ports, serving
   * {@code model} without API keys, with {@code env} beside the defaults. No restarts: a process that dies fails the
   * run rather than coming back mid-measurement.
   */
  static ProcessCluster.Settings processes(Path home, Path model, Map<String, String> env) throws IOException {
    deleteRecursively(home);
    return ProcessCluster.Settings
        .defaults(home, System.getProperty("java.class.path"), ProcessCluster.Layout.PROCESSES)
        .withFreePorts()
        .withRestart(false)
        .withEnv(Map.of("AIGC_MODEL_DIR", model.toString(), "AIGC_AUTH", "none"))
        .withEnv(env);
  }

  /** The client the measured requests go through. */
  static HttpClient httpClient() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  /** The measured request: {@link #PROMPT}, then exactly {@code tokens} greedy tokens. */
  static Map<String, Object> completionBody(int tokens) {
    return Map.of("prompt", PROMPT, "max_tokens", tokens, "temperature", 0, "ignore_eos", true);
  }

  /** {@code request} as one whole (non-streamed) completion through the gateway on {@code port}; throws unless 200. */
  static ClosedLoop.Call completionCall(HttpClient http, int port, Map<String, Object> request) throws IOException {
    String body = JSON.writeValueAsString(request);
    HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
        .timeout(Duration.ofMinutes(10)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return () -> {
      HttpResponse<String> r = http.send(post, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
      }
      JsonNode json = JSON.readTree(r.body());
      return new ClosedLoop.Result(json.at("/usage/completion_tokens").asInt(), json.get("id").asText());
    };
  }
}
