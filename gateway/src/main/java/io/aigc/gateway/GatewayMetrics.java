package io.aigc.gateway;

import io.aigc.schemas.CompletionStatus;
import io.aigc.runtime.Metrics;
import io.aigc.runtime.ServingMetrics;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The gateway's Prometheus metrics, in a registry the service owns (several services may share one JVM). Callers
 * appear by their API key's name, never by the key; the names are configured, so their label values are bounded.
 */
final class GatewayMetrics {
  private final PrometheusRegistry registry;
  private final Counter httpRequests;
  private final Histogram httpDuration;
  private final Counter completions;
  private final Counter duplicateCompletions;
  private final Counter published;
  private final Counter publishFailures;
  private final Counter keyRequests;
  private final Counter unauthorized;
  private final Counter rejected;
  private final Counter streamEvents;
  private final Counter streamEventsUnclaimed;
  private final Counter streams;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger openStreams = new AtomicInteger();

  /** {@code backlog} is negative when unknown (or not checked): the gauge then has no sample. */
  GatewayMetrics(PrometheusRegistry registry, IntSupplier inFlight, IntSupplier storedJobs, LongSupplier backlog,
      Supplier<List<Backlog.StageLag>> stages) {
    this.registry = registry;
    httpRequests = Metrics.counter(registry, "aigc_gateway_http_requests_total",
        "HTTP requests answered, by route, method and status", "route", "method", "status");
    httpDuration = Metrics.seconds(registry, "aigc_gateway_http_request_duration_seconds",
        "Time from receiving an HTTP request to the end of its response (sync completions included)",
        new double[] {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}, "route", "method");
    Metrics.gauge(registry, "aigc_gateway_in_flight",
        "Jobs accepted by this instance and not complete yet (sync requests waiting included)", inFlight::getAsInt);
    Metrics.gauge(registry, "aigc_gateway_jobs_stored", "Jobs kept for GET /v1/jobs/{id}", storedJobs::getAsInt);
    completions = Metrics.counter(registry, "aigc_gateway_completions_received_total",
        "Completions read from the completions topic, by status (ok, error, unreadable)", "status");
    duplicateCompletions = Metrics.counter(registry, "aigc_gateway_completions_duplicate_total",
        "Completions for a job that already had one; the first one is kept");
    published = Metrics.counter(registry, "aigc_gateway_requests_published_total",
        "Generation requests put on the requests topic");
    publishFailures = Metrics.counter(registry, "aigc_gateway_publish_failures_total",
        "Generation requests that could not be put on the requests topic (answered 503)");
    keyRequests = Metrics.counter(registry, "aigc_gateway_key_requests_total",
        "Requests under /v1/ made with a valid API key, by key name and HTTP status (499: the client left)",
        "key", "status");
    unauthorized = Metrics.counter(registry, "aigc_gateway_unauthorized_total",
        "Requests under /v1/ answered 401, by code (missing_api_key, invalid_api_key)", "code");
    rejected = Metrics.counter(registry, "aigc_gateway_rejected_total", "Requests answered 429, by reason: "
        + "rate_limit (the key's), in_flight (this instance's), backlog (the pipeline's)", "reason");
    Metrics.gauge(registry, "aigc_gateway_http_connections",
        "HTTP connections open, idle ones included (closed after AIGC_HTTP_IDLE_TIMEOUT)", connections::get);
    Metrics.gauge(registry, "aigc_gateway_backlog",
        "Requests waiting in the pipeline: consumer lag of the tokenizer and worker groups, at the last check",
        backlog::getAsLong);
    GaugeWithCallback.builder().name(ServingMetrics.CONSUMER_LAG)
        .help("Records a stage's consumer group has not consumed yet, at the last backlog check (AIGC_MAX_BACKLOG)")
        .labelNames(ServingMetrics.STAGE, ServingMetrics.GROUP)
        .callback(cb -> stages.get().forEach(s -> cb.call(s.lag(), s.stage(), s.group()))).register(registry);
    GaugeWithCallback.builder().name(ServingMetrics.CONSUMER_GROUP_MEMBERS)
        .help("Members of a stage's consumer group (0: nobody consumes its topic), at the last backlog check")
        .labelNames(ServingMetrics.STAGE, ServingMetrics.GROUP)
        .callback(cb -> stages.get().stream().filter(s -> s.members() >= 0)
            .forEach(s -> cb.call(s.members(), s.stage(), s.group()))).register(registry);
    streamEvents = Metrics.counter(registry, "aigc_gateway_stream_events_read_total",
        "Events read from this instance's partition of the stream topic");
    streamEventsUnclaimed = Metrics.counter(registry, "aigc_gateway_stream_events_unclaimed_total",
        "Stream events read for no stream open here: another instance's on a shared partition, or a stream's tail "
            + "after it ended");
    Metrics.gauge(registry, "aigc_gateway_streams_open", "Streamed responses in progress", openStreams::get);
    streams = Metrics.counter(registry, "aigc_gateway_streams_total", "Streamed responses ended, by outcome: done, "
        + "error (sent as an HTTP error or an error event), timeout (AIGC_STREAM_IDLE_TIMEOUT), client_closed",
        "outcome");
    JvmMetrics.builder().register(registry);
  }

  PrometheusRegistry registry() {
    return registry;
  }

  void http(String route, String method, int status, long nanos) {
    httpRequests.labelValues(route, method, Integer.toString(status)).inc();
    httpDuration.labelValues(route, method).observe(nanos / 1e9);
  }

  void completion(CompletionStatus status) {
    completions.labelValues(status.name().toLowerCase(Locale.ROOT)).inc();
  }

  void unreadableCompletion() {
    completions.labelValues("unreadable").inc();
  }

  void duplicateCompletion() {
    duplicateCompletions.inc();
  }

  void published() {
    published.inc();
  }

  void publishFailed() {
    publishFailures.inc();
  }

  void keyRequest(String keyName, int status) {
    keyRequests.labelValues(keyName, Integer.toString(status)).inc();
  }

  void unauthorized(String code) {
    unauthorized.labelValues(code).inc();
  }

  void connectionOpened() {
    connections.incrementAndGet();
  }

  void connectionClosed() {
    connections.decrementAndGet();
  }

  void streamEventsRead(int read, int unclaimed) {
    streamEvents.inc(read);
    streamEventsUnclaimed.inc(unclaimed);
  }

  int streamsOpen() {
    return openStreams.get();
  }

  void streamOpened() {
    openStreams.incrementAndGet();
  }

  /** {@code outcome}: done, error, timeout or client_closed. */
  void streamEnded(String outcome) {
    openStreams.decrementAndGet();
    streams.labelValues(outcome).inc();
  }

  void rejected(String reason) {
    rejected.labelValues(reason).inc();
  }
}
