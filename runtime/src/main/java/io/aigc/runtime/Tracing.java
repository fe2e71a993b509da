package io.aigc.runtime;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.IdGenerator;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * A service's traces. A request's W3C {@code traceparent} travels unchanged in the {@value #HEADER} header of every
 * record made for it, from the gateway (which takes it from the HTTP request or starts it) to the completion and the
 * stream events; each stage records a span of its work on the request as a child of that context. A stage that
 * reads a record without one starts the trace itself and writes its span's context on from there.
 *
 * <p>Spans are exported over OTLP/HTTP when {@code OTEL_EXPORTER_OTLP_ENDPOINT} is set ({@link TracingSettings}).
 * Without it the tracer has no span processor, so the SDK makes no spans at all (the context read is passed on as
 * it came); only a trace started here costs two random ids.
 */
public final class Tracing implements AutoCloseable {
  /** The Kafka record header (and HTTP header) that carries the trace context. */
  public static final String HEADER = "traceparent";
  public static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("aigc.request_id");
  public static final AttributeKey<String> MODEL = AttributeKey.stringKey("gen_ai.request.model");

  private static final IdGenerator IDS = IdGenerator.random();
  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
  private static final TextMapGetter<String> ONE_HEADER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(String traceparent) {
      return List.of(HEADER);
    }

    @Override
    public String get(String traceparent, String key) {
      return HEADER.equals(key) ? traceparent : null;
    }
  };

  private final SdkTracerProvider provider;
  private final Tracer tracer;

  private Tracing(SdkTracerProvider provider, String service) {
    this.provider = provider;
    this.tracer = provider.get("io.aigc." + service);
  }

  /** Traces of {@code service} (its {@code service.name}), exported where the settings say, if anywhere. */
  public static Tracing start(TracingSettings settings, String service) {
    SdkTracerProviderBuilder builder = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(
            Attributes.of(AttributeKey.stringKey("service.name"), service))))
        // A request is traced whole or not at all: whoever started it decided.
        .setSampler(Sampler.parentBased(Sampler.alwaysOn()));
    settings.otlpEndpoint().ifPresent(endpoint -> builder.addSpanProcessor(BatchSpanProcessor.builder(
        OtlpHttpSpanExporter.builder().setEndpoint(endpoint.replaceAll("/+$", "") + "/v1/traces").build()).build()));
    return new Tracing(builder.build(), service);
  }

  /** Traces that go nowhere (tests, tools); shared, never closed, since it holds nothing. */
  public static Tracing off() {
    return Off.INSTANCE;
  }

  private static final class Off {
    static final Tracing INSTANCE = start(TracingSettings.OFF, "aigc");
  }

  /**
   * Where a Kafka Streams service puts its {@code Tracing} among the application's configs, for its processors to
   * find in {@code ProcessorContext.appConfigs()} (the topology is built before the service exists).
   */
  public static final String STREAMS_CONFIG = "aigc.tracing";

  /** The service's tracing from Kafka Streams' application configs, or tracing that goes nowhere. */
  public static Tracing fromConfigs(Map<String, Object> configs) {
    return configs.get(STREAMS_CONFIG) instanceof Tracing t ? t : off();
  }

  /** One stage's work on a request, and the {@code traceparent} every record made for the request carries. */
  public record Hop(Span span, String traceparent) {
    /** Writes the request's trace context on a record being made. */
    public void onto(Headers headers) {
      Tracing.write(headers, traceparent);
    }

    public void end() {
      span.end();
    }
  }

  /**
   * Starts a span named {@code name} in the trace {@code traceparent} names; with none (or an unreadable one), the
   * span starts a trace of its own, and its context is what travels on.
   */
  public Hop start(String name, SpanKind kind, String traceparent, String requestId, String model) {
    Context parent = traceparent == null ? Context.root() : W3C.extract(Context.root(), traceparent, ONE_HEADER);
    boolean inTrace = Span.fromContext(parent).getSpanContext().isValid();
    Span span = tracer.spanBuilder(name).setParent(parent).setSpanKind(kind).startSpan();
    if (requestId != null) {
      span.setAttribute(REQUEST_ID, requestId);
    }
    if (model != null) {
      span.setAttribute(MODEL, model);
    }
    String travelling = inTrace ? traceparent
        : span.getSpanContext().isValid() ? traceparent(span)
        // Not recording (no exporter): the trace still starts here, for the stages that do export.
        : "00-" + IDS.generateTraceId() + "-" + IDS.generateSpanId() + "-01";
    return new Hop(span, travelling);
  }

  /** The span of a record's work in this stage, in the trace its headers carry. */
  public Hop start(String name, SpanKind kind, Headers headers, String requestId, String model) {
    return start(name, kind, read(headers), requestId, model);
  }

  /** The {@code traceparent} of {@code span}'s context. */
  public static String traceparent(Span span) {
    Map<String, String> carrier = new HashMap<>();
    W3C.inject(Context.root().with(span), carrier, Map::put);
    return carrier.get(HEADER);
  }

  /** The trace context a record carries, or null. */
  public static String read(Headers headers) {
    Header header = headers == null ? null : headers.lastHeader(HEADER);
    return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.US_ASCII);
  }

  /** Sets the record's trace context (replacing any), unless there is none to set. */
  public static void write(Headers headers, String traceparent) {
    if (traceparent != null) {
      headers.remove(HEADER);
      headers.add(HEADER, traceparent.getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** Sends what is still buffered (within a few seconds) and stops. */
  @Override
  public void close() {
    provider.shutdown().join(5, TimeUnit.SECONDS);
  }
}
