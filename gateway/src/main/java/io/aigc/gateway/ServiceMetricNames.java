package io.aigc.gateway;

import java.util.List;

/**
 * The other services' metric names that the pipeline panel ({@link PipelineMonitor}) reads, in one table: a service
 * that renames a metric changes one line here. Histograms are named by their base name ({@code _sum} and
 * {@code _count} are added).
 */
final class ServiceMetricNames {
  private ServiceMetricNames() {}

  /** The kinds of service, known by the prefix of their metrics, each with its dead-letter counter. */
  enum Kind {
    GATEWAY("gateway", "aigc_gateway_", null),
    TOKENIZER("tokenizer-service", "aigc_tokenizer_", "aigc_tokenizer_dead_letters_total"),
    WORKER("inference-worker", "aigc_worker_", "aigc_worker_dead_letters_total"),
    POSTPROCESSOR("postprocessor", "aigc_postprocessor_", "aigc_postprocessor_dead_letters_total");

    final String label;
    final String prefix;
    final String deadLetters;

    Kind(String label, String prefix, String deadLetters) {
      this.label = label;
      this.prefix = prefix;
      this.deadLetters = deadLetters;
    }

    /** The kind whose metrics {@code text} has; null when none of ours. */
    static Kind of(PrometheusText text) {
      for (Kind kind : List.of(WORKER, TOKENIZER, POSTPROCESSOR, GATEWAY)) {
        if (text.mentions(kind.prefix)) {
          return kind;
        }
      }
      return null;
    }
  }

  /** Gauges: requests queued in the worker for admission, and requests and sequences (rows) in its batch. */
  static final String WORKER_WAITING = "aigc_worker_waiting_requests";
  static final String WORKER_RUNNING_REQUESTS = "aigc_worker_running_requests";
  static final String WORKER_RUNNING_SEQUENCES = "aigc_worker_running_sequences";
  /** Histogram of sequences decoded per step: its sum over its count is the mean batch between two readings. */
  static final String WORKER_BATCH_ROWS = "aigc_worker_batch_rows";
  /** Counter of generated tokens. */
  static final String WORKER_GENERATED_TOKENS = "aigc_worker_generated_tokens_total";
  /** Histograms (seconds): from a request's creation to its prefill, and from its prefill to its first token. */
  static final String WORKER_QUEUE_SECONDS = "aigc_worker_queue_seconds";
  static final String WORKER_FIRST_TOKEN_SECONDS = "aigc_worker_time_to_first_token_seconds";
}
