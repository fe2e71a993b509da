package io.aigc.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The one serde for every event, in Avro single-object encoding: 0xC3 0x01, the 8-byte little-endian
 * CRC-64-AVRO fingerprint of the writer schema, then the binary body.
 *
 * <p>Any Avro library in any language can read and write these bytes without a schema registry: the
 * fingerprint names the writer schema, and the decoder knows every released version of the type (the files
 * under {@code schemas/released/}), so a record written with an older released schema is resolved into the
 * current classes. A fingerprint it does not know is rejected with {@link DeadLetterReason#UNKNOWN_SCHEMA}.
 *
 * <p>Thread-safe: Avro's encoder and decoder keep their buffers per thread.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {
  private final Class<T> type;
  private final Schema schema;
  private final List<Schema> writerSchemas;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;

  /** A serde for {@code type} that reads every released version of its schema. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    return new AvroSerde<>(type, releasedVersions(type));
  }

  AvroSerde(Class<T> type, List<Schema> writerSchemas) {
    this.type = type;
    this.schema = SpecificData.get().getSchema(type);
    this.writerSchemas = List.copyOf(writerSchemas);
    SpecificData model = SpecificData.getForClass(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema);
    for (Schema writer : writerSchemas) {
      decoder.addSchema(writer);
    }
  }

  public Class<T> type() {
    return type;
  }

  /** The schema records are written with: the current one. */
  public Schema schema() {
    return schema;
  }

  /** The writer schemas this serde can read, oldest first. */
  public List<Schema> writerSchemas() {
    return writerSchemas;
  }

  public byte[] encode(T record) {
    try {
      ByteBuffer buffer = encoder.encode(record);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Decodes single-object bytes, resolving older writer schemas into the current class. */
  public T decode(byte[] bytes) {
    if (bytes == null) {
      throw new UnreadableRecordException(DeadLetterReason.NOT_AVRO, "record has no value", null);
    }
    try {
      return decoder.decode(bytes);
    } catch (MissingSchemaException e) {
      throw new UnreadableRecordException(DeadLetterReason.UNKNOWN_SCHEMA,
          "writer schema fingerprint " + fingerprintHex(bytes) + " is not a released version of "
              + type.getSimpleName() + " (known: " + knownFingerprints() + ")", e);
    } catch (BadHeaderException e) {
      throw new UnreadableRecordException(DeadLetterReason.NOT_AVRO,
          "not Avro single-object encoding (expected header 0xC3 0x01): " + e.getMessage(), e);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw new UnreadableRecordException(DeadLetterReason.NOT_AVRO,
          "body does not parse as " + type.getSimpleName() + ": " + e, e);
    }
  }

  @Override
  public byte[] serialize(String topic, T data) {
    return data == null ? null : encode(data);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    return data == null ? null : decode(data);
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // Nothing to configure: the schemas travel in the jar. Overridden because several interfaces declare it.
  }

  @Override
  public void close() {
    // Stateless: nothing to release. Overridden because Serde, Serializer and Deserializer all declare it.
  }

  static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  private static String fingerprintHex(byte[] bytes) {
    if (bytes.length < 10) {
      return "(truncated header)";
    }
    long fp = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return String.format("%016x", fp);
  }

  private String knownFingerprints() {
    List<String> known = new ArrayList<>();
    for (Schema s : writerSchemas) {
      known.add(String.format("%016x", fingerprint(s)));
    }
    return String.join(", ", known);
  }

  /**
   * Loads {@code io/aigc/schemas/released/<Type>/v1.avsc, v2.avsc, ...} from the classpath. Each file is a
   * complete, self-contained writer schema, exactly as it was released.
   */
  static <T> List<Schema> releasedVersions(Class<T> type) {
    List<Schema> versions = releasedVersionsIfAny(type);
    if (versions.isEmpty()) {
      throw new IllegalStateException("no released schema for " + type.getSimpleName() + " on the classpath");
    }
    return versions;
  }

  /** The released versions of {@code type}, none for a type never released. */
  static <T> List<Schema> releasedVersionsIfAny(Class<T> type) {
    List<Schema> versions = new ArrayList<>();
    ClassLoader loader = AvroSerde.class.getClassLoader();
    for (int v = 1; ; v++) {
      String path = "io/aigc/schemas/released/" + type.getSimpleName() + "/v" + v + ".avsc";
      try (InputStream in = loader.getResourceAsStream(path)) {
        if (in == null) {
          break;
        }
        versions.add(new Schema.Parser().parse(in));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read released schema " + path, e);
      }
    }
    return versions;
  }
}
