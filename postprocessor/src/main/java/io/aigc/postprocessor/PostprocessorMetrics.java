package io.aigc.postprocessor;

import io.aigc.runtime.Metrics;
import io.aigc.runtime.ServingMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** What the postprocessor counts, in the registry its {@code /metrics} serves. */
final class PostprocessorMetrics {
  final Counter completions;
  final Counter duplicates;
  final Counter deadLetters;
  final Histogram latency;

  PostprocessorMetrics(PrometheusRegistry registry) {
    completions = Metrics.counter(registry, "aigc_postprocessor_completions_total",
        "Completions written, by status (OK or ERROR)", "status");
    duplicates = Metrics.counter(registry, "aigc_postprocessor_duplicates_dropped_total",
        "Generated sequences dropped because their request id was already completed");
    deadLetters = ServingMetrics.deadLetters(registry, CompletionTopology.NAME);
    latency = ServingMetrics.e2eLatency(registry);
  }
}
