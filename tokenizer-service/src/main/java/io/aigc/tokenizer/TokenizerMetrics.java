package io.aigc.tokenizer;

import io.aigc.runtime.Metrics;
import io.aigc.runtime.ServingMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** What the tokenizer-service counts, in the registry its {@code /metrics} serves. */
final class TokenizerMetrics {
  final Counter tokenized;
  final Counter errors;
  final Counter deadLetters;
  final Histogram promptTokens;

  TokenizerMetrics(PrometheusRegistry registry) {
    tokenized = Metrics.counter(registry, "aigc_tokenizer_requests_tokenized_total",
        "Requests tokenized and passed on to the inference workers");
    errors = Metrics.counter(registry, "aigc_tokenizer_errors_total",
        "Requests answered with an error instead of being tokenized, by error code", "code");
    deadLetters = ServingMetrics.deadLetters(registry, TokenizerTopology.NAME);
    promptTokens = Metrics.sizes(registry, "aigc_tokenizer_prompt_tokens",
        "Tokens in a tokenized prompt, template and special tokens included", Metrics.exponential(1, 2, 16));
  }
}
