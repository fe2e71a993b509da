package io.aigc.gateway;

import io.aigc.runtime.ServingMetrics;
import java.util.List;

/**
 * The other services' metric names that the pipeline panel ({@link PipelineMonitor}) reads, in one table: a service
 * that renames a metric changes one line here. Histograms are named by their base name ({@code _sum} and
 * {@code _count} are added).
 */
final class ServiceMetricNames {
  private ServiceMetricNames() {}

  /**
   * The kinds of service, known by the prefix of their metrics. Each but the gateway counts its dead letters under
   * {@link #DEAD_LETTERS}; the gateway writes none, so it has no such series and counts 0.
   */
  enum Kind {
    GATEWAY("gateway", "aigc_gateway_"),
    TOKENIZER("tokenizer-service", "aigc_tokenizer_"),
    WORKER("inference-worker", "aigc_worker_"),
    POSTPROCESSOR("postprocessor", "aigc_postprocessor_");

    final String label;
    final String prefix;

    Kind(String label, String prefix) {
      this.label = label;
      this.prefix = prefix;
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

  /** Dead letters a service wrote, by reason (one scrape is one service's, so its sum is that service's). */
  static final String DEAD_LETTERS = ServingMetrics.DEAD_LETTERS + "_total";
  /** Gauges: requests queued in the worker for admission, and requests and sequences (rows) in its batch. */
  static final String WORKER_WAITING = ServingMetrics.WAITING;
  static final String WORKER_RUNNING_REQUESTS = ServingMetrics.RUNNING;
  static final String WORKER_RUNNING_SEQUENCES = "aigc_worker_running_sequences";
  /** Histogram of sequences decoded per step: its sum over its count is the mean batch between two readings. */
  static final String WORKER_BATCH_ROWS = "aigc_worker_batch_rows";
  /** Counter of generated tokens. */
  static final String WORKER_GENERATED_TOKENS = ServingMetrics.GENERATION_TOKENS + "_total";
  /** Histogram (seconds): from a request's creation to its first token, as the worker measures it. */
  static final String WORKER_FIRST_TOKEN_SECONDS = ServingMetrics.TIME_TO_FIRST_TOKEN;
}
