package io.aigc.local;

import io.aigc.gateway.GatewayConfig;
import io.aigc.gateway.GatewayService;
import io.aigc.postprocessor.PostprocessorConfig;
import io.aigc.postprocessor.PostprocessorService;
import io.aigc.runtime.Env;
import io.aigc.runtime.Service;
import io.aigc.tokenizer.TokenizerConfig;
import io.aigc.tokenizer.TokenizerService;
import io.aigc.worker.WorkerConfig;
import io.aigc.worker.WorkerService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The four services in one JVM, against the broker named by {@code KAFKA_BOOTSTRAP_SERVERS}: what
 * {@code deploy/local/run.sh} starts, and what the end-to-end tests run. Each service gets the common environment
 * plus its own metrics port ({@code AIGC_TOKENIZER_METRICS_PORT} 9101, {@code AIGC_WORKER_METRICS_PORT} 9102,
 * {@code AIGC_POSTPROCESSOR_METRICS_PORT} 9103; the gateway serves /metrics on its HTTP port).
 */
public final class LocalPipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalPipeline.class);

  private final List<Service> started = new ArrayList<>();
  private GatewayService gateway;
  private TokenizerService tokenizer;
  private WorkerService worker;
  private PostprocessorService postprocessor;

  private LocalPipeline() {}

  /** Starts the services downstream first, so no stage publishes into a stage that is not there yet. */
  public static LocalPipeline start(Env env) throws Exception {
    LocalPipeline p = new LocalPipeline();
    try {
      p.postprocessor = p.add(new PostprocessorService(PostprocessorConfig.fromEnv(
          withPort(env, "AIGC_POSTPROCESSOR_METRICS_PORT", "9103"))));
      p.worker = p.add(new WorkerService(WorkerConfig.fromEnv(withPort(env, "AIGC_WORKER_METRICS_PORT", "9102"))));
      p.tokenizer = p.add(new TokenizerService(TokenizerConfig.fromEnv(
          withPort(env, "AIGC_TOKENIZER_METRICS_PORT", "9101"))));
      p.gateway = p.add(new GatewayService(GatewayConfig.fromEnv(env)));
      return p;
    } catch (Exception | Error e) {
      p.close();
      throw e;
    }
  }

  private static Env withPort(Env env, String variable, String defaultPort) {
    return env.with(Map.of("AIGC_METRICS_PORT", env.string(variable, defaultPort)));
  }

  private <S extends Service> S add(S service) throws Exception {
    service.start();
    started.add(service);
    return service;
  }

  /** Whether every service is ready (its broker reachable, its topics present, its consumer group joined). */
  public boolean ready() {
    return started.size() == 4 && started.stream().allMatch(Service::ready);
  }

  public GatewayService gateway() {
    return gateway;
  }

  public int gatewayPort() {
    return gateway.httpPort();
  }

  /** Metrics ports, by service, for the banner and the benchmark. */
  public Map<String, Integer> metricsPorts() {
    return Map.of("gateway", gateway.httpPort(), "tokenizer-service", tokenizer.metricsPort(),
        "inference-worker", worker.metricsPort(), "postprocessor", postprocessor.metricsPort());
  }

  /** Stops the gateway first (no new work), the postprocessor last (it finishes what is in flight). */
  @Override
  public void close() {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (RuntimeException e) {
        log.warn("{} did not stop cleanly", started.get(i).name(), e);
      }
    }
    started.clear();
  }

  public static void main(String[] args) throws Exception {
    Env env = Env.system();
    LocalPipeline pipeline;
    try {
      pipeline = start(env);
    } catch (IllegalArgumentException e) {
      log.error("configuration error: {}", e.getMessage());
      System.exit(2);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      pipeline.close();
      stopped.countDown();
    }, "local-pipeline-shutdown"));
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!pipeline.ready() && System.nanoTime() < deadline) {
      Thread.sleep(200); // a startup probe, not a test: nothing to await but the services' own state
    }
    String model = Path.of(env.string("AIGC_MODEL_DIR", "models/tiny-llama")).getFileName().toString();
    int port = pipeline.gatewayPort();
    System.out.printf("""

        aigc pipeline %s: model %s, Kafka %s
          curl -s localhost:%d/v1/completions -H 'Content-Type: application/json' \\
            -d '{"prompt": "This License applies to", "max_tokens": 24, "temperature": 0}'
          async: POST /v1/jobs (same body), then GET /v1/jobs/{id}
          health: /healthz /readyz; metrics: %s
        Ctrl-C stops everything.

        """, pipeline.ready() ? "ready" : "started (not ready yet: see the log)", model,
        env.string("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), port, pipeline.metricsPorts());
    stopped.await();
  }
}
