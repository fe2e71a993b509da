package io.aigc.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.schemas.testing.AvroBytes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Guards schema evolution. Changing an .avsc file means releasing it as a new version under
 * {@code schemas/released/<Type>/v<N+1>.avsc}; {@code mvn -pl schemas test -Dschemas.release=true} writes the files
 * for every changed type. Every released version must stay readable by the current classes, so producers built
 * against any released version keep working.
 */
class ReleasedSchemasTest {

  @ParameterizedTest
  @ValueSource(classes = {GenerationRequest.class, TokenizedRequest.class, GeneratedSequence.class,
      Completion.class, DeadLetter.class, Cancellation.class, StreamEvent.class})
  void currentSchemaIsTheLatestReleaseAndReadsEveryRelease(Class<? extends SpecificRecord> type) throws IOException {
    Schema current = org.apache.avro.specific.SpecificData.get().getSchema(type);
    List<Schema> released = AvroSerde.releasedVersionsIfAny(type);
    boolean unreleased = released.isEmpty()
        || AvroSerde.fingerprint(released.get(released.size() - 1)) != AvroSerde.fingerprint(current);
    if (unreleased && Boolean.getBoolean("schemas.release")) {
      Path file = Path.of("released", type.getSimpleName(), "v" + (released.size() + 1) + ".avsc");
      Files.createDirectories(file.getParent());
      Files.writeString(file, current.toString(true) + "\n");
      return;
    }

    assertThat(unreleased)
        .as("%s.avsc changed without a release: run `mvn -pl schemas test -Dschemas.release=true`",
            type.getSimpleName())
        .isFalse();
    AvroSerde<? extends SpecificRecord> serde = AvroSerde.of(type);
    // Logical types stay out of the contract: Avro libraries disagree on their canonical form (Python's keeps
    // {"type":"long"} where Java reduces it to "long"), so producers in other languages would compute another
    // fingerprint and every record of theirs would be rejected as an unknown schema.
    assertThat(serde.schema().toString()).doesNotContain("logicalType");
    for (Schema writer : released) {
      assertThat(SchemaCompatibility.checkReaderWriterCompatibility(serde.schema(), writer).getType())
          .as("current %s reads release %s", type.getSimpleName(), writer)
          .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    }
  }

  @Test
  void aRequestWrittenWithReleaseOneIsReadWithTheFieldsAddedSince() {
    AvroSerde<GenerationRequest> serde = AvroSerde.of(GenerationRequest.class);
    Schema v1 = serde.writerSchemas().get(0);
    GenericRecord params = new GenericData.Record(v1.getField("params").schema());
    params.put("max_tokens", 5);
    params.put("temperature", 0.0);
    params.put("top_p", 1.0);
    params.put("top_k", 0);
    params.put("n", 1);
    params.put("seed", null);
    params.put("stop", List.of());
    GenericRecord request = new GenericData.Record(v1);
    request.put("request_id", "from-v1");
    request.put("created_at", 1L);
    request.put("deadline", null);
    request.put("model", null);
    request.put("prompt", "hello");
    request.put("params", params);
    request.put("metadata", Map.of());

    GenerationRequest read = serde.decode(AvroBytes.encode(v1, request));

    assertThat(read.getRequestId()).isEqualTo("from-v1");
    assertThat(read.getParams().getMaxTokens()).isEqualTo(5);
    assertThat(read.getParams().getIgnoreEos()).isFalse(); // added in v2, default false
  }

}
