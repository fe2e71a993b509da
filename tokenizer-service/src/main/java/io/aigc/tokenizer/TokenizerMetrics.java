package io.aigc.tokenizer;

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
    tokenized = Counter.builder()
        .name("aigc_tokenizer_requests_tokenized_total")
        .help("Requests tokenized and passed on to the inference workers")
        .register(registry);
    errors = Counter.builder()
        .name("aigc_tokenizer_errors_total")
        .help("Requests answered with an error instead of being tokenized, by error code")
        .labelNames("code")
        .register(registry);
    deadLetters = Counter.builder()
        .name("aigc_tokenizer_dead_letters_total")
        .help("Records written to the dead-letter topic, by reason code")
        .labelNames("reason")
        .register(registry);
    promptTokens = Histogram.builder()
        .name("aigc_tokenizer_prompt_tokens")
        .help("Tokens in a tokenized prompt, template and special tokens included")
        .classicOnly()
        .classicExponentialUpperBounds(1, 2, 16)
        .register(registry);
  }
}
