package io.aigc.runtime.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.runtime.ServingMetrics;
import io.aigc.runtime.Tracing;
import io.aigc.schemas.testing.AvroBytes;
import io.aigc.runtime.streams.testing.TopologyHarness;
import io.aigc.schemas.Cancellation;
import io.aigc.schemas.Topics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Streams stage passes the record's trace context on to whatever the record becomes, or starts one. */
class GuardedProcessorTracingTest {
  static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  static final Topics IN = Topics.defaults();
  /** Where the echo stage writes: the cancellations type, another name. */
  static final Topics OUT = Topics.fromEnvironment(
      name -> name.equals("AIGC_TOPIC_CANCELLATIONS") ? Optional.of("echo") : Optional.empty());

  @TempDir
  Path stateDir;
  TopologyHarness harness;

  @BeforeEach
  void start() {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(IN.cancellations().name(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .process(GuardedProcessor.supplier("echo", IN.cancellations(), IN.dlq(),
            ServingMetrics.deadLetters(new PrometheusRegistry(), "echo"), Echo::new))
        .to(Routed.TOPIC, Routed.produced());
    harness = TopologyHarness.start(builder.build(), stateDir, NOW);
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  @Test
  void aRecordsTraceparentGoesOnWithWhatItBecomesAndWithItsDeadLetter() {
    RecordHeaders headers = new RecordHeaders();
    Tracing.write(headers, TRACEPARENT);
    var input = harness.input(IN.cancellations());
    input.pipeInput(new TestRecord<>("r-1", IN.cancellations().valueSerde().encode(cancellation("r-1")), headers));
    input.pipeInput(new TestRecord<>("r-2", AvroBytes.notAvro(), headers));

    assertThat(Tracing.read(harness.output(OUT.cancellations()).readRecord().headers())).isEqualTo(TRACEPARENT);
    assertThat(Tracing.read(harness.output(IN.dlq()).readRecord().headers())).isEqualTo(TRACEPARENT);
  }

  @Test
  void aRecordWithoutOneStartsATraceThere() {
    harness.send(IN.cancellations(), "r-1", cancellation("r-1"));

    assertThat(Tracing.read(harness.output(OUT.cancellations()).readRecord().headers()))
        .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-9a-f]");
  }

  static Cancellation cancellation(String id) {
    return Cancellation.newBuilder().setRequestId(id).setRequestedAt(NOW.toEpochMilli()).build();
  }

  static final class Echo implements RecordHandler<Cancellation> {
    @Override
    public String requestId(Cancellation value) {
      return value.getRequestId();
    }

    @Override
    public List<Routed> handle(String key, Cancellation value, Instant now) {
      return List.of(Routed.to(OUT.cancellations(), key, value));
    }

    @Override
    public List<Routed> reject(String requestId, Cancellation value, String code, String message, Instant now) {
      return List.of();
    }
  }
}
