package io.aigc.gateway;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.aigc.schemas.RequestRules;
import java.io.CharArrayReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A request body read strictly, with typed field readers that answer in OpenAI's words: JSON in UTF-8, as RFC 8259
 * requires between systems (a leading byte order mark is ignored), a JSON object at the top, no duplicate keys, no
 * trailing tokens, no field the endpoint does not know. A JSON {@code null} counts as absent, as in OpenAI's API.
 * Every problem is an {@link ApiError} (400, {@code invalid_request_error}) naming the field. Each endpoint's body
 * ({@link CompletionsBody}) reads its fields through this.
 */
final class JsonBody {
  private static final int MAX_SHOWN_LENGTH = 64;
  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private final JsonNode root;

  private JsonBody(JsonNode root) {
    this.root = root;
  }

  /**
   * Parses {@code body}, refusing any top-level field not in {@code knownFields}. Bytes that are not UTF-8 are
   * refused before JSON is parsed, overlong forms and encoded surrogates included: a lenient decoder would turn them
   * into characters the client never sent.
   */
  static JsonBody parse(byte[] body, Set<String> knownFields) {
    JsonNode root;
    try {
      root = body == null || body.length == 0 ? null : JSON.readTree(utf8(body));
    } catch (JacksonException e) {
      throw ApiError.invalid(null, "invalid_json", "The request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw ApiError.invalid(null, "invalid_json", "The request body could not be read.");
    }
    if (root == null || root.isMissingNode()) {
      throw ApiError.invalid(null, "invalid_json", "The request body is empty; expected a JSON object.");
    }
    if (!root.isObject()) {
      throw ApiError.invalid(null, "invalid_type",
          "The request body must be a JSON object, but got " + describe(root) + ".");
    }
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      if (!knownFields.contains(field.getKey())) {
        String name = shown(field.getKey());
        throw ApiError.invalid(name, "unknown_parameter", "Unrecognized request argument supplied: " + name);
      }
    }
    return new JsonBody(root);
  }

  /** The field's value, or null when absent or JSON null. */
  JsonNode present(String field) {
    JsonNode v = root.get(field);
    return v == null || v.isNull() ? null : v;
  }

  String string(String field) {
    return read(field, JsonNode::isTextual, "a string", JsonNode::textValue);
  }

  Boolean bool(String field) {
    return read(field, JsonNode::isBoolean, "a boolean", JsonNode::booleanValue);
  }

  /** A finite number: JSON allows 1e400, which no double holds. */
  Double number(String field) {
    return read(field, JsonNode::isNumber, "a number",
        v -> fitting(field, v, Double.isFinite(v.doubleValue()), "a finite number", v.doubleValue()));
  }

  Integer integer(String field) {
    return read(field, JsonNode::isIntegralNumber, "an integer",
        v -> fitting(field, v, v.canConvertToInt(), "a 32-bit integer", v.intValue()));
  }

  Long longInteger(String field) {
    return read(field, JsonNode::isIntegralNumber, "an integer",
        v -> fitting(field, v, v.canConvertToLong(), "a 64-bit integer", v.longValue()));
  }

  /** The field's value as {@code type} ("a string"), null when absent, or a 400 naming the type it has instead. */
  private <T> T read(String field, Predicate<JsonNode> isType, String type, Function<JsonNode, T> value) {
    JsonNode v = present(field);
    if (v == null) {
      return null;
    }
    if (!isType.test(v)) {
      throw wrongType(field, type, v);
    }
    return value.apply(v);
  }

  private static <T> T fitting(String field, JsonNode node, boolean fits, String expected, T value) {
    if (!fits) {
      throw outOfRange(field, expected, node);
    }
    return value;
  }

  /** {@code value}, the field's when present, if {@code range} allows it; the error shows the client's own JSON. */
  <T> T within(RequestRules.Range<T> range, T value) {
    if (value != null) {
      range.check(value, present(range.param()).asText()).ifPresent(v -> {
        throw ApiError.invalid(v.param(), "invalid_value", v.message());
      });
    }
    return value;
  }

  /**
   * {@code value}, if it is text: JSON's escapes (e.g. {@code \\uD800}) can spell half of a UTF-16 surrogate pair,
   * which no UTF-8 byte sequence encodes, so it would reach the model as a '?' nobody sent.
   */
  static String text(String field, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw ApiError.invalid(field, "invalid_value", "Invalid '" + field + "': contains an unpaired UTF-16 "
            + "surrogate (a \\u" + Integer.toHexString(c).toUpperCase(Locale.ROOT)
            + " escape without its pair), which is not text.");
      }
    }
    return value;
  }

  /** A client's string as error messages repeat it: short, since error bodies and logs are no place for a novel. */
  static String shown(String value) {
    return value.length() <= MAX_SHOWN_LENGTH ? value : value.substring(0, MAX_SHOWN_LENGTH) + "...";
  }

  static ApiError wrongType(String field, String expected, JsonNode got) {
    return ApiError.invalid(field, "invalid_type",
        "Invalid type for '" + field + "': expected " + expected + ", but got " + describe(got) + " instead.");
  }

  static ApiError outOfRange(String field, String expected, JsonNode got) {
    return ApiError.invalid(field, "invalid_value",
        "Invalid '" + field + "': expected " + expected + ", but got " + got.asText() + " instead.");
  }

  static String describe(JsonNode v) {
    if (v.isTextual()) {
      return "a string";
    } else if (v.isIntegralNumber()) {
      return "an integer";
    } else if (v.isNumber()) {
      return "a decimal number";
    } else if (v.isBoolean()) {
      return "a boolean";
    } else if (v.isArray()) {
      return "an array";
    } else if (v.isObject()) {
      return "an object";
    }
    return "null";
  }

  /** The body's text, or a 400 naming the first byte that is not UTF-8. */
  private static Reader utf8(byte[] body) {
    int start = body.length >= 3 && body[0] == (byte) 0xEF && body[1] == (byte) 0xBB && body[2] == (byte) 0xBF ? 3 : 0;
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body, start, body.length - start);
    // UTF-8 never decodes to more chars than it has bytes.
    CharBuffer out = CharBuffer.allocate(body.length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      throw ApiError.invalid(null, "invalid_json",
          "The request body is not valid UTF-8 (at byte " + in.position() + ").");
    }
    return new CharArrayReader(out.array(), 0, out.position());
  }
}
