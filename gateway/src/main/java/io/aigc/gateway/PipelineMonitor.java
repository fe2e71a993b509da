package io.aigc.gateway;

import io.aigc.gateway.ServiceMetricNames.Kind;
import io.aigc.runtime.PeriodicCheck;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The playground's view of the pipeline from the services' own metrics: every {@code AIGC_PIPELINE_METRICS_URLS}
 * endpoint is read every {@code AIGC_PIPELINE_INTERVAL} on a thread of its own (the same way {@link Backlog} asks
 * the broker), and {@code GET /v1/pipeline} only reads the last {@link View}. Between two readings, counters and
 * histograms give rates: tokens per second summed over the workers, and the mean time from a request's creation to
 * its first token as the workers measured it (from the request's creation, its queue included).
 *
 * <p>A service that does not answer, or answers what is not Prometheus text, is shown as down with the reason; a
 * counter that went backwards (the service restarted) gives no rate for that interval.
 */
final class PipelineMonitor implements AutoCloseable {
  /** Readings the chart keeps: five minutes at the default interval. */
  static final int HISTORY = 150;

  /** What one worker's gauges say; {@code meanBatch} is null when it made no step since the last reading. */
  record Worker(double waiting, double runningRequests, double runningSequences, Double meanBatch) {}

  /**
   * One endpoint's last reading.
   *
   * @param kind the service, known by its metrics' prefix; null when down or none of ours
   * @param error why it is down; null when up
   * @param worker set when it is an inference worker
   */
  record Target(URI url, String kind, String error, double deadLetters, Worker worker) {
    boolean up() {
      return error == null;
    }
  }

  /** A point of the chart; {@code firstTokenMs} is null when no request got its first token in the interval. */
  record Point(long timeMs, double tokensPerSecond, double requestsPerSecond, Double firstTokenMs) {}

  /** Everything the panel shows from the metrics; {@code updatedMs} is 0 before the first reading. */
  record View(long updatedMs, List<Target> targets, List<Point> history) {
    static final View EMPTY = new View(0, List.of(), List.of());
  }

  /** A worker's cumulative counts at one reading; only differences between readings matter. */
  private record Counters(double tokens, double firstTokenSum, double firstTokenCount, double batchSum,
      double batchCount) {
    static Counters of(PrometheusText text) {
      return new Counters(text.sum(ServiceMetricNames.WORKER_GENERATED_TOKENS),
          text.sum(ServiceMetricNames.WORKER_FIRST_TOKEN_SECONDS + "_sum"),
          text.sum(ServiceMetricNames.WORKER_FIRST_TOKEN_SECONDS + "_count"),
          text.sum(ServiceMetricNames.WORKER_BATCH_ROWS + "_sum"),
          text.sum(ServiceMetricNames.WORKER_BATCH_ROWS + "_count"));
    }

    /** {@code this - earlier}, or null when any count went backwards (a restart). */
    Counters minus(Counters earlier) {
      Counters d = new Counters(tokens - earlier.tokens, firstTokenSum - earlier.firstTokenSum,
          firstTokenCount - earlier.firstTokenCount, batchSum - earlier.batchSum, batchCount - earlier.batchCount);
      boolean backwards = d.tokens < 0 || d.firstTokenCount < 0 || d.batchCount < 0;
      return backwards ? null : d;
    }
  }

  private final List<URI> urls;
  private final Duration interval;
  private final HttpClient http;
  private PeriodicCheck timer;
  private volatile View view = View.EMPTY;
  // Only the reading thread touches these.
  private final Map<URI, Counters> previous = new HashMap<>();
  private long previousNanos;
  private final ArrayDeque<Point> history = new ArrayDeque<>();

  PipelineMonitor(List<URI> urls, Duration interval) {
    this.urls = List.copyOf(urls);
    this.interval = interval;
    // No client (and none of its threads) for a gateway that reads no metrics.
    this.http = urls.isEmpty() ? null : HttpClient.newBuilder().connectTimeout(timeout()).build();
  }

  /** Reads every {@code interval}, the first time at once; nothing when there is no URL. */
  void start() {
    if (!urls.isEmpty()) {
      timer = PeriodicCheck.start("gateway-pipeline-metrics", Duration.ZERO, interval, this::read);
    }
  }

  View view() {
    return view;
  }

  /** One reading of every endpoint (package-private: tests call it rather than wait for the timer). */
  void read() {
    long nanos = System.nanoTime();
    Map<URI, CompletableFuture<HttpResponse<String>>> pending = new LinkedHashMap<>();
    for (URI url : urls) {
      pending.put(url, http.sendAsync(HttpRequest.newBuilder(url).timeout(timeout()).GET().build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    List<Target> targets = new ArrayList<>();
    Counters sum = null;
    boolean complete = true;
    for (Map.Entry<URI, CompletableFuture<HttpResponse<String>>> e : pending.entrySet()) {
      URI url = e.getKey();
      PrometheusText text;
      try {
        HttpResponse<String> response = e.getValue().get(timeout().toMillis() * 2, TimeUnit.MILLISECONDS);
        if (response.statusCode() != 200) {
          throw new IllegalStateException("HTTP " + response.statusCode());
        }
        text = PrometheusText.parse(response.body());
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException | RuntimeException ex) {
        Throwable cause = ex instanceof ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
        targets.add(new Target(url, null, cause.getClass().getSimpleName()
            + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), 0, null));
        previous.remove(url);
        continue;
      }
      Kind kind = Kind.of(text);
      if (kind == null) {
        targets.add(new Target(url, null, "no aigc metrics there", 0, null));
        continue;
      }
      double deadLetters = text.sum(ServiceMetricNames.DEAD_LETTERS);
      Worker worker = null;
      if (kind == Kind.WORKER) {
        Counters now = Counters.of(text);
        Counters before = previous.put(url, now);
        Counters delta = before == null ? null : now.minus(before);
        if (delta == null) {
          complete = false;
        } else {
          sum = sum == null ? delta : add(sum, delta);
        }
        Double meanBatch = delta == null || delta.batchCount == 0 ? null : delta.batchSum / delta.batchCount;
        worker = new Worker(text.sum(ServiceMetricNames.WORKER_WAITING),
            text.sum(ServiceMetricNames.WORKER_RUNNING_REQUESTS),
            text.sum(ServiceMetricNames.WORKER_RUNNING_SEQUENCES), meanBatch);
      }
      targets.add(new Target(url, kind.label, null, deadLetters, worker));
    }
    long now = System.currentTimeMillis();
    // A rate needs each worker's difference over the same interval; a worker that restarted in it (its counters went
    // back) would read as a dip, so the interval gives no point. One that does not answer is left out of the sum.
    if (previousNanos != 0 && complete && sum != null) {
      double seconds = Math.max(1e-3, (nanos - previousNanos) / 1e9);
      Double firstToken = sum.firstTokenCount == 0 ? null : 1000 * sum.firstTokenSum / sum.firstTokenCount;
      history.addLast(new Point(now, sum.tokens / seconds, sum.firstTokenCount / seconds, firstToken));
      while (history.size() > HISTORY) {
        history.removeFirst();
      }
    }
    previousNanos = nanos;
    view = new View(now, List.copyOf(targets), List.copyOf(history));
  }

  private static Counters add(Counters a, Counters b) {
    return new Counters(a.tokens + b.tokens, a.firstTokenSum + b.firstTokenSum, a.firstTokenCount + b.firstTokenCount,
        a.batchSum + b.batchSum, a.batchCount + b.batchCount);
  }

  /** Per request: a slow service must not hold the next reading up for long. */
  private Duration timeout() {
    long ms = Math.max(500, Math.min(interval.toMillis(), 5_000));
    return Duration.ofMillis(ms);
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.close();
    }
  }
}
