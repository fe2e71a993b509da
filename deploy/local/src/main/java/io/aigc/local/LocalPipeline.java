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

  /** Runs the four services in this JVM until SIGTERM; the supervisor ({@link LocalProcesses}) says where. */
  public static void main(String[] args) throws Exception {
    LocalPipeline pipeline;
    try {
      pipeline = start(Env.system());
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
    log.info("all four services started");
    stopped.await();
  }
}
