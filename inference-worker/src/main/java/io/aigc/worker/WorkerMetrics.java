package io.aigc.worker;

import io.aigc.engine.EngineMetrics;
import io.aigc.engine.EngineSettings;
import io.aigc.engine.GenerationEngine;
import io.aigc.engine.GenerationOutcome;
import io.aigc.engine.OnnxModel;
import io.aigc.runtime.Metrics;
import io.aigc.runtime.ServingMetrics;
import io.aigc.schemas.DeadLetterReason;
import io.aigc.schemas.GeneratedSequence;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The worker's Prometheus metrics: the scheduler's state, throughput and latency, and what went wrong. */
final class WorkerMetrics implements EngineMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests = Metrics.counter(registry, "aigc_worker_requests_total",
      "Requests finished, by outcome (ok or an error code)", "outcome");
  private final Counter success = ServingMetrics.requestSuccess(registry);
  private final Counter promptTokens = ServingMetrics.promptTokens(registry);
  private final Counter tokens = ServingMetrics.generationTokens(registry);
  private final Counter cacheCopied = Metrics.counter(registry, "aigc_worker_kv_copied_bytes_total",
      "KV-cache bytes copied to change the batch (joins and rebuilds; the model's own copy of each step is not "
          + "counted)");
  private final Counter deadLetters = ServingMetrics.deadLetters(registry, "inference-worker");
  private final Counter streamEvents = Metrics.counter(registry, "aigc_worker_stream_events_total",
      "Text events written to the stream topic, by outcome (ok, failed: not written, the completion still is)",
      "outcome");
  private final Histogram batchRows = Metrics.sizes(registry, "aigc_worker_batch_rows", "Sequences decoded per step",
      new double[] {1, 2, 4, 8, 16, 32, 64, 128, 256});
  private final Histogram batchPositions = Metrics.sizes(registry, "aigc_worker_batch_positions",
      "Length of the batch per step, padding included: what every row of the step attends over",
      Metrics.exponential(16, 2, 10));
  private final Histogram stepSeconds = Metrics.seconds(registry, "aigc_worker_step_seconds",
      "Duration of one decode step", Metrics.exponential(0.0005, 2, 14));
  private final Histogram prefillSeconds = Metrics.seconds(registry, "aigc_worker_prefill_seconds",
      "Duration of one prompt's prefill", Metrics.exponential(0.0005, 2, 14));
  private final Histogram queueSeconds = ServingMetrics.queueTime(registry);
  private final Histogram firstTokenSeconds = ServingMetrics.timeToFirstToken(registry);
  private final Histogram interTokenSeconds = ServingMetrics.interTokenLatency(registry);
  /** The model this worker serves: every serving metric's {@code model} label. Set before the engine runs. */
  private volatile String model = "";

  PrometheusRegistry registry() {
    return registry;
  }

  /** The scheduler's state, read when scraped. */
  void register(GenerationEngine engine, OnnxModel model, EngineSettings settings, String modelName) {
    this.model = modelName;
    Metrics.gauge(registry, ServingMetrics.WAITING, "Requests queued for admission", ServingMetrics.MODEL, modelName,
        engine::waitingRequests);
    Metrics.gauge(registry, ServingMetrics.RUNNING, "Requests in the running batch", ServingMetrics.MODEL, modelName,
        () -> engine.load().requests());
    Metrics.gauge(registry, ServingMetrics.KV_CACHE_USAGE, "KV cache reserved by running requests, as a fraction of "
        + "the budget (1 = full)", ServingMetrics.MODEL, modelName,
        () -> (double) engine.load().reservedKvBytes() / Math.max(1, settings.kvBudgetBytes()));
    Metrics.gauge(registry, "aigc_worker_running_sequences", "Sequences (rows) in the running batch",
        () -> engine.load().rows());
    Metrics.gauge(registry, "aigc_worker_kv_reserved_bytes", "KV cache reserved by running requests",
        () -> engine.load().reservedKvBytes());
    Metrics.gauge(registry, "aigc_worker_kv_budget_bytes", "KV cache budget", settings::kvBudgetBytes);
    Metrics.gauge(registry, "aigc_worker_direct_memory_bytes", "Direct memory of tensors in use and pooled",
        model::directBytes);
  }

  @Override
  public void step(int rows, int groups, int positions, long nanos) {
    batchRows.observe(rows);
    batchPositions.observe(positions);
    stepSeconds.observe(nanos / 1e9);
  }

  @Override
  public void cacheCopied(long bytes) {
    cacheCopied.inc(bytes);
  }

  @Override
  public void prefill(int tokens, long nanos) {
    prefillSeconds.observe(nanos / 1e9);
  }

  @Override
  public void finished(GenerationOutcome outcome) {
    tokens.labelValues(model).inc(outcome.generatedTokens());
    if (!outcome.isFailure()) {
      promptTokens.labelValues(model).inc(outcome.promptTokens());
      queueSeconds.labelValues(model).observe(outcome.queueMs() / 1e3);
      firstTokenSeconds.labelValues(model).observe((outcome.queueMs() + outcome.timeToFirstTokenMs()) / 1e3);
      int longest = outcome.choices().stream().mapToInt(GenerationOutcome.Choice::tokenCount).max().orElse(0);
      if (longest > 1) {
        interTokenSeconds.labelValues(model).observe(outcome.decodeMs() / 1e3 / (longest - 1));
      }
      for (GenerationOutcome.Choice choice : outcome.choices()) {
        success.labelValues(model, choice.finishReason().code()).inc();
      }
    }
  }

  void published(GeneratedSequence generated) {
    requests.labelValues(generated.getError() == null ? "ok" : generated.getError().getCode()).inc();
  }

  void streamEvent() {
    streamEvents.labelValues("ok").inc();
  }

  void streamEventFailed() {
    streamEvents.labelValues("failed").inc();
  }

  void deadLetter(DeadLetterReason reason) {
    deadLetters.labelValues("inference-worker", reason.code()).inc();
  }
}
