package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fields every generation endpoint shares (OpenAI's sampling and stopping parameters, metadata, and our
 * extensions), read from a {@link JsonBody} into a {@link RequestSpec} with the contract's {@link RequestRules}:
 * <ul>
 *   <li>{@code max_tokens}: integer in [1, limit], default 16 (or the limit, if smaller)
 *   <li>{@code temperature}: number in [0, 2], default 1; {@code top_p}: number in (0, 1], default 1
 *   <li>{@code top_k} (extension): integer &gt;= 0, default 0 (off); {@code n}: integer in [1, max n], default 1
 *   <li>{@code stop}: a non-empty string or an array of at most 4 non-empty strings; {@code seed}: a 64-bit integer
 *   <li>{@code ignore_eos} (extension, as in vLLM): a boolean, default false; true generates max_tokens tokens
 *       even past the end-of-sequence token (benchmarks, fixed-length output)
 *   <li>{@code echo}, {@code logprobs}, {@code best_of}, {@code presence_penalty}, {@code frequency_penalty},
 *       {@code logit_bias}, {@code suffix}: accepted only at their neutral values (false, null, n, 0, 0, {}, "")
 *   <li>{@code user}: a string of at most 256 characters, carried as metadata {@code user}
 *   <li>{@code metadata}: an object of at most 16 string values, keys of 1 to 64 characters, values of at most 512
 *       (OpenAI's limits), carried unchanged into the completion; the key {@code api_key_name} is reserved (the
 *       gateway sets it to the caller's key name)
 *   <li>the strings passed on ({@code stop}, {@code user}, {@code metadata}) must be text: an escaped half of a
 *       UTF-16 surrogate pair is refused
 *   <li>{@code timeout_seconds} (extension): a number in (0, 86400]; sets the job's deadline
 * </ul>
 */
final class SamplingFields {
  static final Set<String> NAMES = Set.of("max_tokens", "temperature", "top_p", "top_k", "n", "stop", "seed",
      "ignore_eos", "user", "metadata", "timeout_seconds", "echo", "logprobs", "best_of", "presence_penalty",
      "frequency_penalty", "logit_bias", "suffix");

  private SamplingFields() {}

  /** Reads the shared fields of {@code body} into {@code spec}, in a fixed order: the first problem is reported. */
  static RequestSpec.Builder read(JsonBody body, RequestRules.Limits limits, RequestSpec.Builder spec) {
    Integer maxTokens = body.within(RequestRules.maxTokens(limits), body.integer("max_tokens"));
    Double temperature = body.within(RequestRules.TEMPERATURE, body.number("temperature"));
    Double topP = body.within(RequestRules.TOP_P, body.number("top_p"));
    Integer topK = body.within(RequestRules.TOP_K, body.integer("top_k"));
    Integer n = body.within(RequestRules.n(limits), body.integer("n"));
    int choices = n == null ? RequestRules.DEFAULT_N : n;
    List<String> stop = stop(body);
    Long seed = body.longInteger("seed");
    Boolean ignoreEos = body.bool("ignore_eos");

    rejectUnsupported(body, choices);

    Map<String, String> metadata = metadata(body);
    String user = body.string("user");
    if (user != null) {
      if (user.length() > RequestRules.MAX_USER_LENGTH) {
        throw ApiError.invalid("user", "invalid_value",
            "Invalid 'user': at most " + RequestRules.MAX_USER_LENGTH + " characters, got " + user.length() + ".");
      }
      if (metadata.containsKey(RequestRules.USER)) {
        throw ApiError.invalid("metadata", "invalid_value",
            "Invalid 'metadata': the key 'user' is reserved for the 'user' field when that field is set.");
      }
      metadata.put(RequestRules.USER, JsonBody.text("user", user));
    }
    Double timeout = body.within(RequestRules.TIMEOUT_SECONDS, body.number("timeout_seconds"));

    return spec
        .maxTokens(maxTokens == null ? Math.min(RequestRules.DEFAULT_MAX_TOKENS, limits.maxTokens()) : maxTokens)
        .temperature(temperature == null ? RequestRules.DEFAULT_TEMPERATURE : temperature)
        .topP(topP == null ? RequestRules.DEFAULT_TOP_P : topP)
        .topK(topK == null ? RequestRules.DEFAULT_TOP_K : topK)
        .n(choices)
        .stop(stop)
        .seed(seed)
        .ignoreEos(ignoreEos != null && ignoreEos)
        .metadata(metadata)
        // Deadlines travel in milliseconds; anything positive gets at least one.
        .timeout(timeout == null ? null : Duration.ofMillis(Math.max(1, Math.round(timeout * 1000))));
  }

  private static List<String> stop(JsonBody body) {
    JsonNode v = body.present("stop");
    if (v == null) {
      return List.of();
    }
    List<JsonNode> items = new ArrayList<>();
    if (v.isTextual()) {
      items.add(v);
    } else if (v.isArray()) {
      v.forEach(items::add);
    } else {
      throw ApiError.invalid("stop", "invalid_type",
          "Invalid type for 'stop': expected a string or an array of strings, but got " + JsonBody.describe(v)
              + " instead.");
    }
    List<String> stop = new ArrayList<>();
    for (JsonNode item : items) {
      if (!item.isTextual()) {
        throw ApiError.invalid("stop", "invalid_type",
            "Invalid type for 'stop': expected strings, but got " + JsonBody.describe(item) + ".");
      }
      stop.add(JsonBody.text("stop", item.textValue()));
    }
    RequestRules.stop(stop).ifPresent(violation -> {
      throw ApiError.invalid("stop", "invalid_value", violation.message());
    });
    return stop;
  }

  /** OpenAI parameters this server does not implement, accepted only where they change nothing. */
  private static void rejectUnsupported(JsonBody body, int n) {
    if (Boolean.TRUE.equals(body.bool("echo"))) {
      throw unsupported("echo", "'echo' is not supported; only false is accepted.");
    }
    if (body.present("logprobs") != null) {
      body.integer("logprobs");
      throw unsupported("logprobs", "'logprobs' is not supported; only null is accepted.");
    }
    Integer bestOf = body.integer("best_of");
    if (bestOf != null && bestOf != n) {
      throw unsupported("best_of", "'best_of' is not supported; only a value equal to n (" + n + ") is accepted.");
    }
    for (String penalty : List.of("presence_penalty", "frequency_penalty")) {
      Double value = body.number(penalty);
      if (value != null && value != 0) {
        throw unsupported(penalty, "'" + penalty + "' is not supported; only 0 is accepted.");
      }
    }
    JsonNode logitBias = body.present("logit_bias");
    if (logitBias != null) {
      if (!logitBias.isObject()) {
        throw JsonBody.wrongType("logit_bias", "an object", logitBias);
      }
      if (!logitBias.isEmpty()) {
        throw unsupported("logit_bias", "'logit_bias' is not supported; only an empty object is accepted.");
      }
    }
    String suffix = body.string("suffix");
    if (suffix != null && !suffix.isEmpty()) {
      throw unsupported("suffix", "'suffix' is not supported; only an empty string is accepted.");
    }
  }

  private static Map<String, String> metadata(JsonBody body) {
    JsonNode v = body.present("metadata");
    Map<String, String> metadata = new LinkedHashMap<>();
    if (v == null) {
      return metadata;
    }
    if (!v.isObject()) {
      throw JsonBody.wrongType("metadata", "an object", v);
    }
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      String key = JsonBody.text("metadata", e.getKey());
      if (!e.getValue().isTextual()) {
        throw ApiError.invalid("metadata", "invalid_type", "Invalid type for 'metadata." + key
            + "': expected a string, but got " + JsonBody.describe(e.getValue()) + " instead.");
      }
      metadata.put(key, JsonBody.text("metadata", e.getValue().textValue()));
    }
    RequestRules.metadata(metadata).ifPresent(violation -> {
      throw ApiError.invalid("metadata", "invalid_value", violation.message());
    });
    return metadata;
  }

  private static ApiError unsupported(String field, String message) {
    return ApiError.invalid(field, "unsupported_parameter", message);
  }
}
