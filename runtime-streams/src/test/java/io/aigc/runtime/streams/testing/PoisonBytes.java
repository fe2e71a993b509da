package io.aigc.runtime.streams.testing;

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

/** Values a topology must dead-letter rather than choke on, for the services' topology tests. */
public final class PoisonBytes {
  private PoisonBytes() {}

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
    try {
      ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), unreleased).encode(record);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
