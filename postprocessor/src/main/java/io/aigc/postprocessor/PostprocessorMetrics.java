package io.aigc.postprocessor;

import io.aigc.runtime.Metrics;
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
    deadLetters = Metrics.counter(registry, "aigc_postprocessor_dead_letters_total",
        "Records written to the dead-letter topic, by reason code", "reason");
    latency = Metrics.seconds(registry, "aigc_postprocessor_end_to_end_latency_seconds",
        "From a request's creation to its completion",
        new double[] {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300});
  }
}
