package io.aigc.runtime;

import io.aigc.schemas.DeadLetterReason;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The metrics an operator of vLLM already knows, under our prefix and with the same meaning, declared once for
 * every service: each service registers the ones it can measure (README, "Metrics", says which). Every latency
 * histogram has the same buckets, so dashboards can compare and add them.
 */
public final class ServingMetrics {
  private ServingMetrics() {}

  public static final String PREFIX = "aigc_";

  // Labels other classes set; the rest are named where their metric is declared.
  public static final String MODEL = "model";
  public static final String STAGE = "stage";
  public static final String GROUP = "group";

  // Names other classes register or read (a counter's without the _total its samples carry); the rest are named
  // where their metric is declared.
  public static final String GENERATION_TOKENS = PREFIX + "generation_tokens";
  public static final String TIME_TO_FIRST_TOKEN = PREFIX + "time_to_first_token_seconds";
  public static final String RUNNING = PREFIX + "num_requests_running";
  public static final String WAITING = PREFIX + "num_requests_waiting";
  public static final String KV_CACHE_USAGE = PREFIX + "kv_cache_usage_perc";
  public static final String CONSUMER_LAG = PREFIX + "consumer_lag";
  public static final String CONSUMER_GROUP_MEMBERS = PREFIX + "consumer_group_members";
  public static final String DEAD_LETTERS = PREFIX + "dead_letters";

  /**
   * Latency buckets, in seconds: from 1 ms (an inter-token step of a small model) to 60 s (a long answer's end to
   * end), about three per decade.
   */
  public static final double[] LATENCY_BUCKETS = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};

  /** {@code aigc_request_success_total{model, finish_reason}}: choices that ended normally, by why they ended. */
  public static Counter requestSuccess(PrometheusRegistry registry) {
    return Metrics.counter(registry, PREFIX + "request_success",
        "Choices generated to their end, by finish reason (stop, length)", MODEL, "finish_reason");
  }

  public static Counter promptTokens(PrometheusRegistry registry) {
    return Metrics.counter(registry, PREFIX + "prompt_tokens", "Prompt tokens prefilled", MODEL);
  }

  public static Counter generationTokens(PrometheusRegistry registry) {
    return Metrics.counter(registry, GENERATION_TOKENS, "Tokens generated", MODEL);
  }

  public static Histogram timeToFirstToken(PrometheusRegistry registry) {
    return latency(registry, TIME_TO_FIRST_TOKEN, "From a request's creation at the gateway to its first token");
  }

  public static Histogram interTokenLatency(PrometheusRegistry registry) {
    return latency(registry, PREFIX + "inter_token_latency_seconds",
        "Time per output token after the first (a request's decode time over its longest choice's tokens)");
  }

  public static Histogram queueTime(PrometheusRegistry registry) {
    return latency(registry, PREFIX + "request_queue_time_seconds",
        "From a request's creation at the gateway to the start of its prefill: Kafka, tokenizer and scheduler queue");
  }

  public static Histogram e2eLatency(PrometheusRegistry registry) {
    return latency(registry, PREFIX + "e2e_request_latency_seconds",
        "From a request's creation at the gateway to its completion being written");
  }

  /**
   * {@code aigc_dead_letters_total{service, reason}}: records set aside on the dead-letter topic. No model label: a
   * record that cannot be read names none. Every reason starts at 0 for {@code service}, so a rate over it is
   * defined before the first dead letter.
   */
  public static Counter deadLetters(PrometheusRegistry registry, String service) {
    Counter counter = Metrics.counter(registry, DEAD_LETTERS,
        "Records written to the dead-letter topic, by service and reason", "service", "reason");
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      counter.initLabelValues(service, reason.code());
    }
    return counter;
  }

  private static Histogram latency(PrometheusRegistry registry, String name, String help) {
    return Metrics.seconds(registry, name, help, LATENCY_BUCKETS, MODEL);
  }
}
