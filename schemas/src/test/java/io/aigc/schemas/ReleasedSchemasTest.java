package io.aigc.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Guards schema evolution. Changing an .avsc file means releasing it: copy the new writer schema to
 * schemas/released/&lt;Type&gt;/v&lt;N+1&gt;.avsc. Every released version must stay readable by the current classes,
 * so producers built against any released version keep working.
 */
class ReleasedSchemasTest {

  @ParameterizedTest
  @ValueSource(classes = {GenerationRequest.class, TokenizedRequest.class, GeneratedSequence.class,
      Completion.class, DeadLetter.class})
  void currentSchemaIsTheLatestReleaseAndReadsEveryRelease(Class<? extends SpecificRecord> type) {
    AvroSerde<? extends SpecificRecord> serde = AvroSerde.of(type);
    List<Schema> released = serde.writerSchemas();

    assertThat(AvroSerde.fingerprint(released.get(released.size() - 1)))
        .as("%s.avsc changed without a new file under schemas/released/%s/", type.getSimpleName(), type.getSimpleName())
        .isEqualTo(AvroSerde.fingerprint(serde.schema()));
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
}
