package io.aigc.worker;

import io.aigc.engine.EngineMetrics;
import io.aigc.engine.EngineSettings;
import io.aigc.engine.GenerationEngine;
import io.aigc.engine.GenerationOutcome;
import io.aigc.engine.OnnxModel;
import io.aigc.schemas.DeadLetterReason;
import io.aigc.schemas.GeneratedSequence;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.function.LongSupplier;

/** The worker's Prometheus metrics: the scheduler's state, throughput and latency, and what went wrong. */
final class WorkerMetrics implements EngineMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests = Counter.builder().name("aigc_worker_requests_total")
      .help("Requests finished, by outcome (ok or an error code)").labelNames("outcome").register(registry);
  private final Counter tokens = Counter.builder().name("aigc_worker_generated_tokens_total")
      .help("Tokens generated").register(registry);
  private final Counter cacheCopied = Counter.builder().name("aigc_worker_kv_copied_bytes_total")
      .help("KV-cache bytes copied to change the batch (joins and rebuilds; the model's own copy of each step is "
          + "not counted)").register(registry);
  private final Counter deadLetters = Counter.builder().name("aigc_worker_dead_letters_total")
      .help("Records sent to the dead-letter topic, by reason").labelNames("reason").register(registry);
  private final Histogram batchRows = Histogram.builder().name("aigc_worker_batch_rows")
      .help("Sequences decoded per step").classicOnly()
      .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
  private final Histogram batchPositions = Histogram.builder().name("aigc_worker_batch_positions")
      .help("Length of the batch per step, padding included: what every row of the step attends over").classicOnly()
      .classicExponentialUpperBounds(16, 2, 10).register(registry);
  private final Histogram stepSeconds = Histogram.builder().name("aigc_worker_step_seconds").unit(Unit.SECONDS)
      .help("Duration of one decode step").classicOnly()
      .classicExponentialUpperBounds(0.0005, 2, 14).register(registry);
  private final Histogram prefillSeconds = Histogram.builder().name("aigc_worker_prefill_seconds").unit(Unit.SECONDS)
      .help("Duration of one prompt's prefill").classicOnly()
      .classicExponentialUpperBounds(0.0005, 2, 14).register(registry);
  private final Histogram queueSeconds = Histogram.builder().name("aigc_worker_queue_seconds").unit(Unit.SECONDS)
      .help("From a request's creation to its prefill").classicOnly()
      .classicExponentialUpperBounds(0.001, 2, 16).register(registry);
  private final Histogram firstTokenSeconds = Histogram.builder().name("aigc_worker_time_to_first_token_seconds")
      .unit(Unit.SECONDS).help("From a request's prefill to its first token").classicOnly()
      .classicExponentialUpperBounds(0.0005, 2, 14).register(registry);

  PrometheusRegistry registry() {
    return registry;
  }

  /** The scheduler's state, read when scraped. */
  void register(GenerationEngine engine, OnnxModel model, EngineSettings settings) {
    gauge("aigc_worker_waiting_requests", "Requests queued for admission", engine::waitingRequests);
    gauge("aigc_worker_running_requests", "Requests in the running batch", engine::runningRequests);
    gauge("aigc_worker_running_sequences", "Sequences (rows) in the running batch", engine::runningRows);
    gauge("aigc_worker_kv_reserved_bytes", "KV cache reserved by running requests", engine::reservedKvBytes);
    gauge("aigc_worker_kv_budget_bytes", "KV cache budget", settings::kvBudgetBytes);
    gauge("aigc_worker_direct_memory_bytes", "Direct memory of tensors in use and pooled", model::directBytes);
  }

  private void gauge(String name, String help, LongSupplier value) {
    GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsLong())).register(registry);
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

  void deadLetter(DeadLetterReason reason) {
    deadLetters.labelValues(reason.code()).inc();
  }
}
