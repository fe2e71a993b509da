package io.aigc.postprocessor;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/** What the postprocessor counts, in the registry its {@code /metrics} serves. */
final class PostprocessorMetrics {
  final Counter completions;
  final Counter duplicates;
  final Counter deadLetters;
  final Histogram latency;

  PostprocessorMetrics(PrometheusRegistry registry) {
    completions = Counter.builder()
        .name("aigc_postprocessor_completions_total")
        .help("Completions written, by status (OK or ERROR)")
        .labelNames("status")
        .register(registry);
    duplicates = Counter.builder()
        .name("aigc_postprocessor_duplicates_dropped_total")
        .help("Generated sequences dropped because their request id was already completed")
        .register(registry);
    deadLetters = Counter.builder()
        .name("aigc_postprocessor_dead_letters_total")
        .help("Records written to the dead-letter topic, by reason code")
        .labelNames("reason")
        .register(registry);
    latency = Histogram.builder()
        .name("aigc_postprocessor_end_to_end_latency_seconds")
        .help("From a request's creation to its completion")
        .unit(Unit.SECONDS)
        .classicOnly()
        .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
        .register(registry);
  }
}
