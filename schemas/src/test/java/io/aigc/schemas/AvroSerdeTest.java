package io.aigc.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.schemas.testing.AvroBytes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {
  private final AvroSerde<GenerationRequest> serde = AvroSerde.of(GenerationRequest.class);

  static GenerationRequest request() {
    return GenerationRequest.newBuilder()
        .setRequestId("req-1")
        .setCreatedAt(1_700_000_000_000L)
        .setDeadline(1_700_000_060_000L)
        .setModel(null)
        .setPrompt("Once upon a time")
        .setParams(GenerationParams.newBuilder().setMaxTokens(8).setTemperature(0.0).setStop(List.of("\n")).build())
        .setMetadata(Map.of("article_id", "a-42"))
        .build();
  }

  @Test
  void roundTripsARecord() {
    GenerationRequest request = request();
    assertThat(serde.decode(serde.encode(request))).isEqualTo(request);
  }

  @Test
  void writesSingleObjectEncodingThatAnyAvroLibraryCanRead() {
    byte[] bytes = serde.encode(request());
    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    // The fingerprint of the .avsc file's parsing canonical form: what a Python or Go producer computes.
    assertThat(fingerprint).isEqualTo(SchemaNormalization.parsingFingerprint64(GenerationRequest.getClassSchema()));
  }

  @Test
  void resolvesARecordWrittenWithAnOlderSchemaVersion() {
    // An "older" GenerationRequest without metadata and without top_k, as a producer built before they existed writes it.
    Schema older = new Schema.Parser().parse("""
        {"type":"record","name":"GenerationRequest","namespace":"io.aigc.schemas","fields":[
          {"name":"request_id","type":"string"},
          {"name":"created_at","type":"long"},
          {"name":"deadline","type":["null","long"],"default":null},
          {"name":"model","type":["null","string"],"default":null},
          {"name":"prompt","type":"string"},
          {"name":"params","type":{"type":"record","name":"GenerationParams","fields":[
            {"name":"max_tokens","type":"int"},{"name":"temperature","type":"double"},{"name":"top_p","type":"double"},
            {"name":"n","type":"int"},{"name":"seed","type":["null","long"]},
            {"name":"stop","type":{"type":"array","items":"string"}}]}}]}""");
    GenericRecord params = new GenericData.Record(older.getField("params").schema());
    params.put("max_tokens", 5);
    params.put("temperature", 0.5);
    params.put("top_p", 0.9);
    params.put("n", 1);
    params.put("seed", 7L);
    params.put("stop", List.of());
    GenericRecord old = new GenericData.Record(older);
    old.put("request_id", "old-1");
    old.put("created_at", 1_700_000_000_000L);
    old.put("prompt", "hello");
    old.put("params", params);
    byte[] bytes = AvroBytes.encode(older, old);

    AvroSerde<GenerationRequest> knowsOlder = new AvroSerde<>(GenerationRequest.class,
        List.of(older, GenerationRequest.getClassSchema()));
    GenerationRequest read = knowsOlder.decode(bytes);

    assertThat(read.getRequestId()).isEqualTo("old-1");
    assertThat(read.getParams().getSeed()).isEqualTo(7L);
    assertThat(read.getParams().getTopK()).isZero();
    assertThat(read.getMetadata()).isEmpty();

    // The production serde does not know that schema: it says so instead of guessing.
    assertThatThrownBy(() -> serde.decode(bytes))
        .isInstanceOfSatisfying(UnreadableRecordException.class,
            e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.UNKNOWN_SCHEMA))
        .hasMessageContaining("not a released version of GenerationRequest");
  }

  @Test
  void rejectsBytesThatAreNotAvro() {
    assertThatThrownBy(() -> serde.decode("{\"prompt\":\"hi\"}".getBytes()))
        .isInstanceOfSatisfying(UnreadableRecordException.class,
            e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.NOT_AVRO));
    assertThatThrownBy(() -> serde.decode(new byte[0]))
        .isInstanceOfSatisfying(UnreadableRecordException.class,
            e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.NOT_AVRO));
    assertThatThrownBy(() -> serde.decode(null))
        .isInstanceOfSatisfying(UnreadableRecordException.class,
            e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.NOT_AVRO));
  }

  @Test
  void rejectsATruncatedBody() {
    byte[] bytes = serde.encode(request());
    byte[] truncated = Arrays.copyOf(bytes, 14);
    assertThatThrownBy(() -> serde.decode(truncated))
        .isInstanceOfSatisfying(UnreadableRecordException.class,
            e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.NOT_AVRO));
  }

  @Test
  void rejectsTheRecordOfAnotherType() {
    byte[] completion = AvroSerde.of(DeadLetter.class).encode(DeadLetter.newBuilder()
        .setSourceTopic("t").setSourcePartition(0).setSourceOffset(1).setReasonCode("not_avro")
        .setReason("x").setService("s").setFailedAt(0L).build());
    assertThatThrownBy(() -> serde.decode(completion))
        .isInstanceOfSatisfying(UnreadableRecordException.class,
            e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.UNKNOWN_SCHEMA));
  }

}
