package io.aigc.worker;

import io.aigc.engine.EngineMetrics;
import io.aigc.engine.EngineSettings;
import io.aigc.engine.GenerationEngine;
import io.aigc.engine.GenerationOutcome;
import io.aigc.engine.OnnxModel;
import io.aigc.runtime.Metrics;
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
  private final Counter tokens = Metrics.counter(registry, "aigc_worker_generated_tokens_total", "Tokens generated");
  private final Counter cacheCopied = Metrics.counter(registry, "aigc_worker_kv_copied_bytes_total",
      "KV-cache bytes copied to change the batch (joins and rebuilds; the model's own copy of each step is not "
          + "counted)");
  private final Counter deadLetters = Metrics.counter(registry, "aigc_worker_dead_letters_total",
      "Records sent to the dead-letter topic, by reason", "reason");
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
  private final Histogram queueSeconds = Metrics.seconds(registry, "aigc_worker_queue_seconds",
      "From a request's creation to its prefill", Metrics.exponential(0.001, 2, 16));
  private final Histogram firstTokenSeconds = Metrics.seconds(registry, "aigc_worker_time_to_first_token_seconds",
      "From a request's prefill to its first token", Metrics.exponential(0.0005, 2, 14));

  PrometheusRegistry registry() {
    return registry;
  }

  /** The scheduler's state, read when scraped. */
  void register(GenerationEngine engine, OnnxModel model, EngineSettings settings) {
    Metrics.gauge(registry, "aigc_worker_waiting_requests", "Requests queued for admission", engine::waitingRequests);
    Metrics.gauge(registry, "aigc_worker_running_requests", "Requests in the running batch", engine::runningRequests);
    Metrics.gauge(registry, "aigc_worker_running_sequences", "Sequences (rows) in the running batch",
        engine::runningRows);
    Metrics.gauge(registry, "aigc_worker_kv_reserved_bytes", "KV cache reserved by running requests",
        engine::reservedKvBytes);
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
    tokens.inc(outcome.generatedTokens());
    if (!outcome.isFailure()) {
      queueSeconds.observe(outcome.queueMs() / 1e3);
      firstTokenSeconds.observe(outcome.timeToFirstTokenMs() / 1e3);
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
    deadLetters.labelValues(reason.code()).inc();
  }
}
