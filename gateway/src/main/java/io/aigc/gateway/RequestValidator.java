package io.aigc.gateway;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.CharArrayReader;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks an OpenAI {@code /v1/completions} request body and turns it into a {@link CompletionRequest}, or throws
 * the {@link ApiError} (400, {@code invalid_request_error}) that names the first problem found.
 *
 * <p>Rules, beyond well-formed JSON in UTF-8 (duplicate keys are malformed too) and a JSON object at the top:
 * <ul>
 *   <li>{@code prompt}: required, a non-empty string (or an array of exactly one string)
 *   <li>{@code model}: optional; when present, the served model's name
 *   <li>{@code max_tokens}: integer in [1, limit], default 16 (or the limit, if smaller)
 *   <li>{@code temperature}: number in [0, 2], default 1; {@code top_p}: number in (0, 1], default 1
 *   <li>{@code top_k} (extension): integer &gt;= 0, default 0 (off); {@code n}: integer in [1, max n], default 1
 *   <li>{@code stop}: a non-empty string or an array of at most 4 non-empty strings; {@code seed}: a 64-bit integer
 *   <li>{@code ignore_eos} (extension, as in vLLM): a boolean, default false; true generates max_tokens tokens
 *       even past the end-of-sequence token (benchmarks, fixed-length output)
 *   <li>{@code stream}: false only (streaming is not supported yet)
 *   <li>{@code echo}, {@code logprobs}, {@code best_of}, {@code presence_penalty}, {@code frequency_penalty},
 *       {@code logit_bias}, {@code suffix}: accepted only at their neutral values (false, null, n, 0, 0, {}, "")
 *   <li>{@code user}: a string of at most 256 characters, carried as metadata {@code user}
 *   <li>{@code metadata}: an object of at most 16 string values, keys of 1 to 64 characters, values of at most 512
 *       (OpenAI's limits), carried unchanged into the completion; the key {@code api_key_name} is reserved (the
 *       gateway sets it to the caller's key name)
 *   <li>the strings passed on ({@code prompt}, {@code stop}, {@code user}, {@code metadata}) must be text: an
 *       escaped half of a UTF-16 surrogate pair is refused
 *   <li>{@code timeout_seconds} (extension): a number in (0, 86400]; sets the job's deadline
 *   <li>any other field: "Unrecognized request argument supplied: X"
 * </ul>
 * A JSON {@code null} counts as absent, as in OpenAI's API. Plain Java and thread-safe.
 */
final class RequestValidator {
  static final int DEFAULT_MAX_TOKENS = 16;
  static final int MAX_STOP_SEQUENCES = 4;
  static final int MAX_METADATA_ENTRIES = 16;
  static final int MAX_METADATA_KEY_LENGTH = 64;
  static final int MAX_METADATA_VALUE_LENGTH = 512;
  static final int MAX_USER_LENGTH = 256;
  static final double MAX_TIMEOUT_SECONDS = 86_400;
  private static final int MAX_SHOWN_LENGTH = 64;

  private static final Set<String> KNOWN_FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_p",
      "top_k", "n", "stop", "seed", "ignore_eos", "stream", "user", "metadata", "timeout_seconds", "echo", "logprobs", "best_of",
      "presence_penalty", "frequency_penalty", "logit_bias", "suffix");

  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private final String modelName;
  private final int maxTokensLimit;
  private final int maxN;

  RequestValidator(String modelName, int maxTokensLimit, int maxN) {
    this.modelName = modelName;
    this.maxTokensLimit = maxTokensLimit;
    this.maxN = maxN;
  }

  /**
   * Validates a raw request body: JSON in UTF-8, as RFC 8259 requires between systems (a leading byte order mark is
   * ignored). Bytes that are not UTF-8 are refused before JSON is parsed, overlong forms and encoded surrogates
   * included: a lenient decoder would turn them into characters the client never sent.
   */
  CompletionRequest validate(byte[] body) {
    JsonNode root;
    try {
      root = body == null || body.length == 0 ? null : JSON.readTree(utf8(body));
    } catch (JacksonException e) {
      throw ApiError.invalid(null, "invalid_json",
          "The request body is not valid JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
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
      String name = field.getKey();
      if (!KNOWN_FIELDS.contains(name)) {
        throw ApiError.invalid(shown(name), "unknown_parameter",
            "Unrecognized request argument supplied: " + shown(name));
      }
    }

    Boolean stream = bool(root, "stream");
    if (Boolean.TRUE.equals(stream)) {
      throw unsupported("stream", "Streaming is not supported yet: send \"stream\": false (or leave it out).");
    }
    String model = string(root, "model");
    if (model != null && !model.equals(modelName)) {
      throw ApiError.invalid("model", "model_not_found",
          "The model '" + shown(model) + "' does not exist. This server serves '" + modelName + "'.");
    }
    String prompt = prompt(root);

    Integer maxTokens = integer(root, "max_tokens");
    if (maxTokens != null && (maxTokens < 1 || maxTokens > maxTokensLimit)) {
      throw outOfRange("max_tokens", "an integer between 1 and " + maxTokensLimit, root.get("max_tokens"));
    }
    Double temperature = number(root, "temperature");
    if (temperature != null && (temperature < 0 || temperature > 2)) {
      throw outOfRange("temperature", "a number between 0 and 2", root.get("temperature"));
    }
    Double topP = number(root, "top_p");
    if (topP != null && (topP <= 0 || topP > 1)) {
      throw outOfRange("top_p", "a number greater than 0 and at most 1", root.get("top_p"));
    }
    Integer topK = integer(root, "top_k");
    if (topK != null && topK < 0) {
      throw outOfRange("top_k", "an integer of at least 0 (0 disables top-k)", root.get("top_k"));
    }
    Integer n = integer(root, "n");
    if (n != null && (n < 1 || n > maxN)) {
      throw outOfRange("n", "an integer between 1 and " + maxN, root.get("n"));
    }
    int choices = n == null ? 1 : n;
    List<String> stop = stop(root);
    Long seed = longInteger(root, "seed");
    Boolean ignoreEos = bool(root, "ignore_eos");

    rejectUnsupported(root, choices);

    Map<String, String> metadata = metadata(root);
    String user = string(root, "user");
    if (user != null) {
      if (user.length() > MAX_USER_LENGTH) {
        throw ApiError.invalid("user", "invalid_value",
            "Invalid 'user': at most " + MAX_USER_LENGTH + " characters, got " + user.length() + ".");
      }
      if (metadata.containsKey("user")) {
        throw ApiError.invalid("metadata", "invalid_value",
            "Invalid 'metadata': the key 'user' is reserved for the 'user' field when that field is set.");
      }
      metadata.put("user", text("user", user));
    }
    Duration timeout = timeout(root);

    return new CompletionRequest(prompt,
        maxTokens == null ? Math.min(DEFAULT_MAX_TOKENS, maxTokensLimit) : maxTokens,
        temperature == null ? 1.0 : temperature,
        topP == null ? 1.0 : topP,
        topK == null ? 0 : topK,
        choices, stop, seed, ignoreEos != null && ignoreEos, metadata, timeout);
  }

  private static String prompt(JsonNode root) {
    JsonNode v = present(root, "prompt");
    if (v == null) {
      throw ApiError.invalid("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.");
    }
    if (v.isArray()) {
      if (v.size() != 1) {
        throw ApiError.invalid("prompt", "invalid_value", "Invalid 'prompt': only one prompt per request is "
            + "supported, as a string or an array of exactly one string; got an array of " + v.size() + ".");
      }
      v = v.get(0);
    }
    if (!v.isTextual()) {
      throw ApiError.invalid("prompt", "invalid_type",
          "Invalid type for 'prompt': expected a string, but got " + describe(v) + " instead.");
    }
    if (v.textValue().isEmpty()) {
      throw ApiError.invalid("prompt", "invalid_value", "Invalid 'prompt': must not be empty.");
    }
    return text("prompt", v.textValue());
  }

  private static List<String> stop(JsonNode root) {
    JsonNode v = present(root, "stop");
    if (v == null) {
      return List.of();
    }
    List<JsonNode> items = new ArrayList<>();
    if (v.isTextual()) {
      items.add(v);
    } else if (v.isArray()) {
      if (v.size() > MAX_STOP_SEQUENCES) {
        throw ApiError.invalid("stop", "invalid_value", "Invalid 'stop': at most " + MAX_STOP_SEQUENCES
            + " stop sequences, got " + v.size() + ".");
      }
      v.forEach(items::add);
    } else {
      throw ApiError.invalid("stop", "invalid_type",
          "Invalid type for 'stop': expected a string or an array of strings, but got " + describe(v) + " instead.");
    }
    List<String> stop = new ArrayList<>();
    for (JsonNode item : items) {
      if (!item.isTextual()) {
        throw ApiError.invalid("stop", "invalid_type",
            "Invalid type for 'stop': expected strings, but got " + describe(item) + ".");
      }
      if (item.textValue().isEmpty()) {
        throw ApiError.invalid("stop", "invalid_value", "Invalid 'stop': stop sequences must not be empty.");
      }
      stop.add(text("stop", item.textValue()));
    }
    return stop;
  }

  /** OpenAI parameters this server does not implement, accepted only where they change nothing. */
  private static void rejectUnsupported(JsonNode root, int n) {
    if (Boolean.TRUE.equals(bool(root, "echo"))) {
      throw unsupported("echo", "'echo' is not supported; only false is accepted.");
    }
    if (present(root, "logprobs") != null) {
      integer(root, "logprobs");
      throw unsupported("logprobs", "'logprobs' is not supported; only null is accepted.");
    }
    Integer bestOf = integer(root, "best_of");
    if (bestOf != null && bestOf != n) {
      throw unsupported("best_of", "'best_of' is not supported; only a value equal to n (" + n + ") is accepted.");
    }
    for (String penalty : List.of("presence_penalty", "frequency_penalty")) {
      Double value = number(root, penalty);
      if (value != null && value != 0) {
        throw unsupported(penalty, "'" + penalty + "' is not supported; only 0 is accepted.");
      }
    }
    JsonNode logitBias = present(root, "logit_bias");
    if (logitBias != null) {
      if (!logitBias.isObject()) {
        throw ApiError.invalid("logit_bias", "invalid_type",
            "Invalid type for 'logit_bias': expected an object, but got " + describe(logitBias) + " instead.");
      }
      if (!logitBias.isEmpty()) {
        throw unsupported("logit_bias", "'logit_bias' is not supported; only an empty object is accepted.");
      }
    }
    String suffix = string(root, "suffix");
    if (suffix != null && !suffix.isEmpty()) {
      throw unsupported("suffix", "'suffix' is not supported; only an empty string is accepted.");
    }
  }

  private static Map<String, String> metadata(JsonNode root) {
    JsonNode v = present(root, "metadata");
    Map<String, String> metadata = new LinkedHashMap<>();
    if (v == null) {
      return metadata;
    }
    if (!v.isObject()) {
      throw ApiError.invalid("metadata", "invalid_type",
          "Invalid type for 'metadata': expected an object, but got " + describe(v) + " instead.");
    }
    if (v.size() > MAX_METADATA_ENTRIES) {
      throw ApiError.invalid("metadata", "invalid_value",
          "Invalid 'metadata': at most " + MAX_METADATA_ENTRIES + " keys, got " + v.size() + ".");
    }
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      String key = text("metadata", e.getKey());
      if (key.equals(CompletionRequest.API_KEY_NAME)) {
        throw ApiError.invalid("metadata", "invalid_value", "Invalid 'metadata': the key '"
            + CompletionRequest.API_KEY_NAME + "' is reserved; the gateway sets it to the name of the caller's API "
            + "key.");
      }
      if (key.isEmpty() || key.length() > MAX_METADATA_KEY_LENGTH) {
        throw ApiError.invalid("metadata", "invalid_value", "Invalid 'metadata': keys must be 1 to "
            + MAX_METADATA_KEY_LENGTH + " characters long.");
      }
      if (!e.getValue().isTextual()) {
        throw ApiError.invalid("metadata", "invalid_type", "Invalid type for 'metadata." + key
            + "': expected a string, but got " + describe(e.getValue()) + " instead.");
      }
      if (e.getValue().textValue().length() > MAX_METADATA_VALUE_LENGTH) {
        throw ApiError.invalid("metadata", "invalid_value", "Invalid 'metadata." + key + "': at most "
            + MAX_METADATA_VALUE_LENGTH + " characters.");
      }
      metadata.put(key, text("metadata", e.getValue().textValue()));
    }
    return metadata;
  }

  private static Duration timeout(JsonNode root) {
    Double seconds = number(root, "timeout_seconds");
    if (seconds == null) {
      return null;
    }
    if (seconds <= 0 || seconds > MAX_TIMEOUT_SECONDS) {
      throw outOfRange("timeout_seconds", "a number of seconds greater than 0 and at most "
          + (long) MAX_TIMEOUT_SECONDS, root.get("timeout_seconds"));
    }
    // Deadlines travel in milliseconds; anything positive gets at least one.
    return Duration.ofMillis(Math.max(1, Math.round(seconds * 1000)));
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

  /** A client's string as error messages repeat it: short, since error bodies and logs are no place for a novel. */
  private static String shown(String value) {
    return value.length() <= MAX_SHOWN_LENGTH ? value : value.substring(0, MAX_SHOWN_LENGTH) + "...";
  }

  /**
   * {@code value}, if it is text: JSON's escapes (e.g. {@code \\uD800}) can spell half of a UTF-16 surrogate pair,
   * which no UTF-8 byte sequence encodes, so it would reach the model as a '?' nobody sent.
   */
  private static String text(String field, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw ApiError.invalid(field, "invalid_value", "Invalid '" + field + "': contains an unpaired UTF-16 "
            + "surrogate (a \\u" + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT)
            + " escape without its pair), which is not text.");
      }
    }
    return value;
  }

  private static JsonNode present(JsonNode root, String field) {
    JsonNode v = root.get(field);
    return v == null || v.isNull() ? null : v;
  }

  private static String string(JsonNode root, String field) {
    JsonNode v = present(root, field);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw wrongType(field, "a string", v);
    }
    return v.textValue();
  }

  private static Boolean bool(JsonNode root, String field) {
    JsonNode v = present(root, field);
    if (v == null) {
      return null;
    }
    if (!v.isBoolean()) {
      throw wrongType(field, "a boolean", v);
    }
    return v.booleanValue();
  }

  private static Double number(JsonNode root, String field) {
    JsonNode v = present(root, field);
    if (v == null) {
      return null;
    }
    if (!v.isNumber()) {
      throw wrongType(field, "a number", v);
    }
    double d = v.doubleValue();
    if (!Double.isFinite(d)) {
      throw outOfRange(field, "a finite number", v);
    }
    return d;
  }

  private static Integer integer(JsonNode root, String field) {
    JsonNode v = present(root, field);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber()) {
      throw wrongType(field, "an integer", v);
    }
    if (!v.canConvertToInt()) {
      throw outOfRange(field, "a 32-bit integer", v);
    }
    return v.intValue();
  }

  private static Long longInteger(JsonNode root, String field) {
    JsonNode v = present(root, field);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber()) {
      throw wrongType(field, "an integer", v);
    }
    if (!v.canConvertToLong()) {
      throw outOfRange(field, "a 64-bit integer", v);
    }
    return v.longValue();
  }

  private static ApiError wrongType(String field, String expected, JsonNode got) {
    return ApiError.invalid(field, "invalid_type",
        "Invalid type for '" + field + "': expected " + expected + ", but got " + describe(got) + " instead.");
  }

  private static ApiError outOfRange(String field, String expected, JsonNode got) {
    return ApiError.invalid(field, "invalid_value",
        "Invalid '" + field + "': expected " + expected + ", but got " + got.asText() + " instead.");
  }

  private static ApiError unsupported(String field, String message) {
    return ApiError.invalid(field, "unsupported_parameter", message);
  }

  private static String describe(JsonNode v) {
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
}
