package io.aigc.local;

import io.aigc.gateway.GatewayConfig;
import io.aigc.gateway.GatewayService;
import io.aigc.model.ModelDirectory;
import io.aigc.postprocessor.PostprocessorConfig;
import io.aigc.postprocessor.CompletionTopology;
import io.aigc.runtime.Env;
import io.aigc.runtime.Service;
import io.aigc.runtime.ServiceDefaults;
import io.aigc.runtime.ServiceMain;
import io.aigc.runtime.streams.StreamsService;
import io.aigc.tokenizer.TokenizerConfig;
import io.aigc.tokenizer.TokenizerTopology;
import io.aigc.worker.WorkerConfig;
import io.aigc.worker.WorkerService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The four services in one JVM, against the broker named by {@code KAFKA_BOOTSTRAP_SERVERS}: what
 * {@code deploy/local/run.sh} starts, and what the end-to-end tests run. Each service gets the common environment
 * plus its own metrics port ({@code AIGC_TOKENIZER_METRICS_PORT} 9101, {@code AIGC_WORKER_METRICS_PORT} 9102,
 * {@code AIGC_POSTPROCESSOR_METRICS_PORT} 9103; the gateway serves /metrics on its HTTP port). With several models in
 * {@code AIGC_MODEL_DIR}, one inference worker per model: the first on the worker port, the others on free ones.
 */
public final class LocalPipeline implements Service {
  private static final Logger log = LoggerFactory.getLogger(LocalPipeline.class);

  private final PostprocessorConfig postprocessorConfig;
  private final List<WorkerConfig> workerConfigs;
  private final TokenizerConfig tokenizerConfig;
  private final GatewayConfig gatewayConfig;
  private final Env env;
  private final List<Service> started = new ArrayList<>();
  private GatewayService gateway;
  private StreamsService tokenizer;
  private final List<WorkerService> workers = new ArrayList<>();
  private StreamsService postprocessor;

  /** Reads every service's configuration now, so a mistake in it fails before anything starts. */
  public LocalPipeline(Env env) {
    this.postprocessorConfig = PostprocessorConfig.fromEnv(
        withPort(env, "AIGC_POSTPROCESSOR_METRICS_PORT", ServiceDefaults.POSTPROCESSOR_METRICS_PORT));
    this.workerConfigs = workerConfigs(withPort(env, "AIGC_WORKER_METRICS_PORT", ServiceDefaults.WORKER_METRICS_PORT));
    this.tokenizerConfig = TokenizerConfig.fromEnv(
        withPort(env, "AIGC_TOKENIZER_METRICS_PORT", ServiceDefaults.TOKENIZER_METRICS_PORT));
    this.gatewayConfig = GatewayConfig.fromEnv(env);
    this.env = env;
  }

  /**
   * One worker per model of {@code AIGC_MODEL_DIR}: the first on the worker's metrics port, the others on free ones.
   */
  private static List<WorkerConfig> workerConfigs(Env workerEnv) {
    List<WorkerConfig> configs = new ArrayList<>();
    List<Path> models = ModelDirectory.list(workerEnv.string("AIGC_MODEL_DIR", ModelDirectory.DEFAULT.toString()));
    for (int i = 0; i < models.size(); i++) {
      Map<String, String> own = new HashMap<>(Map.of("AIGC_MODEL_DIR", models.get(i).toString()));
      if (i > 0) {
        own.put("AIGC_METRICS_PORT", "0");
      }
      if (models.size() > 1) {
        // Workers of several models in one JVM: each names itself after its model in what it writes.
        own.put("AIGC_WORKER_ID", workerEnv.optional("AIGC_WORKER_ID").orElse("inference-worker") + "-"
            + ModelDirectory.nameOf(models.get(i)));
      }
      configs.add(WorkerConfig.fromEnv(workerEnv.with(own)));
    }
    return List.copyOf(configs);
  }

  /** Starts the four services; see {@link #start()}. */
  public static LocalPipeline start(Env env) throws Exception {
    LocalPipeline pipeline = new LocalPipeline(env);
    pipeline.start();
    return pipeline;
  }

  @Override
  public String name() {
    return "local-pipeline";
  }

  /** Starts the services downstream first, so no stage publishes into a stage that is not there yet. */
  @Override
  public void start() throws Exception {
    try {
      postprocessor = add(CompletionTopology.service(postprocessorConfig));
      for (WorkerConfig config : workerConfigs) {
        workers.add(add(new WorkerService(config)));
      }
      tokenizer = add(TokenizerTopology.service(tokenizerConfig));
      // The playground's pipeline panel reads the other three services' metrics, on the ports they got.
      gateway = add(new GatewayService(env.optional(PIPELINE_METRICS_URLS).isPresent() ? gatewayConfig
          : GatewayConfig.fromEnv(env.with(Map.of(PIPELINE_METRICS_URLS, metricsUrls(IntStream.concat(
              IntStream.of(tokenizer.metricsPort(), postprocessor.metricsPort()),
              workers.stream().mapToInt(WorkerService::metricsPort))))))));
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /** The gateway's list of the other services' metrics endpoints, for its pipeline panel. */
  static final String PIPELINE_METRICS_URLS = "AIGC_PIPELINE_METRICS_URLS";

  /** {@code AIGC_PIPELINE_METRICS_URLS} for services on this machine at these metrics ports (every worker's). */
  static String metricsUrls(IntStream ports) {
    return ports
        .mapToObj(port -> "http://127.0.0.1:" + port + "/metrics")
        .collect(Collectors.joining(","));
  }

  private static Env withPort(Env env, String variable, int defaultPort) {
    return env.with(Map.of("AIGC_METRICS_PORT", env.string(variable, String.valueOf(defaultPort))));
  }

  private <S extends Service> S add(S service) throws Exception {
    service.start();
    started.add(service);
    return service;
  }

  /** Whether every service is ready (its broker reachable, its topics present, its consumer group joined). */
  @Override
  public boolean ready() {
    return started.size() == 3 + workerConfigs.size() && started.stream().allMatch(Service::ready);
  }

  public GatewayService gateway() {
    return gateway;
  }

  public int gatewayPort() {
    return gateway.httpPort();
  }

  /** Metrics ports, by service, for the banner and the benchmark. */
  public Map<String, Integer> metricsPorts() {
    Map<String, Integer> ports = new HashMap<>(Map.of("gateway", gateway.httpPort(), "tokenizer-service",
        tokenizer.metricsPort(), "inference-worker", workers.get(0).metricsPort(), "postprocessor",
        postprocessor.metricsPort()));
    for (int i = 1; i < workers.size(); i++) {
      ports.put("inference-worker-" + ModelDirectory.nameOf(workerConfigs.get(i).modelDir()), workers.get(i).metricsPort());
    }
    return Map.copyOf(ports);
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
  public static void main(String[] args) {
    ServiceMain.run(LocalPipeline::new);
  }
}
