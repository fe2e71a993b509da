package io.aigc.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.trace.SpanKind;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class TracingTest {
  static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @Test
  void aRequestsTraceparentTravelsUnchanged() {
    Tracing.Hop hop = Tracing.off().start("process", SpanKind.CONSUMER, TRACEPARENT, "job-1", "tiny-llama");
    assertThat(hop.traceparent()).isEqualTo(TRACEPARENT);
    assertThat(hop.span().getSpanContext().getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    hop.end();
  }

  @Test
  void withoutOneOrWithAnUnreadableOneTheSpanStartsTheTraceThatTravels() {
    for (String given : new String[] {null, "", "00-not-a-trace-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) {
      Tracing.Hop hop = Tracing.off().start("publish", SpanKind.PRODUCER, given, null, null);
      assertThat(hop.traceparent()).as("from %s", given)
          .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01")
          .doesNotContain("00000000000000000000000000000000");
      hop.end();
    }
  }

  @Test
  void theHeaderIsReadAndReplacedOnARecord() {
    RecordHeaders headers = new RecordHeaders();
    assertThat(Tracing.read(headers)).isNull();
    Tracing.write(headers, null);
    assertThat(headers.toArray()).isEmpty();
    Tracing.write(headers, "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01");
    Tracing.write(headers, TRACEPARENT);
    assertThat(headers.toArray()).hasSize(1);
    assertThat(Tracing.start(TracingSettings.OFF, "t").start("x", SpanKind.CONSUMER, headers, null, null).traceparent())
        .isEqualTo(TRACEPARENT);
  }

  @Test
  void theEndpointIsAnHttpUrlOrUnset() {
    assertThat(TracingSettings.fromEnv(Env.of(Map.of())).otlpEndpoint()).isEmpty();
    assertThat(TracingSettings.fromEnv(Env.of(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")))
        .otlpEndpoint()).isEqualTo(Optional.of("http://collector:4318"));
    assertThatThrownBy(() -> TracingSettings.fromEnv(Env.of(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"))))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_ENDPOINT");
  }
}
