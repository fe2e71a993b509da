package io.aigc.schemas.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro bytes as other producers write them: records of older or never released schemas, and values a service must
 * dead-letter rather than choke on.
 */
public final class AvroBytes {
  private AvroBytes() {}

  /** Bytes without the single-object header: what a JSON producer or a misrouted topic would send. */
  public static byte[] notAvro() {
    return "{\"prompt\":\"hello\"}".getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Well-formed single-object Avro of a record with {@code type}'s full name but a writer schema that was never
   * released (an extra field), so its fingerprint is unknown to the reader.
   */
  public static byte[] unknownSchema(Class<? extends SpecificRecord> type) {
    Schema released = SpecificData.get().getSchema(type);
    Schema unreleased = SchemaBuilder.record(released.getName()).namespace(released.getNamespace()).fields()
        .requiredString("request_id")
        .requiredInt("shoe_size")
        .endRecord();
    GenericRecord record = new GenericData.Record(unreleased);
    record.put("request_id", "r-unknown");
    record.put("shoe_size", 44);
    return encode(unreleased, record);
  }

  /** {@code record} in Avro's single-object encoding under {@code schema}, as a producer with that schema writes it. */
  public static byte[] encode(Schema schema, GenericRecord record) {
    try {
      ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
