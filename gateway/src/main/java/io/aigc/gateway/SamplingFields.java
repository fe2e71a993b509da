package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.model.SamplingParams;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The fields every generation endpoint shares (OpenAI's sampling and stopping parameters, metadata, and our
 * extensions), read from a {@link JsonBody} into a {@link RequestSpec} with the contract's {@link RequestRules}:
 * <ul>
 *   <li>{@code max_tokens} (and on chat {@code max_completion_tokens}, its new name; both given, they must agree):
 *       integer in [1, limit], default 16 (or the limit, if smaller)
 *   <li>{@code temperature}: number in [0, 2], default 1; {@code top_p}: number in (0, 1], default 1
 *   <li>{@code top_k} (extension): integer &gt;= 0, default 0 (off); {@code n}: integer in [1, max n], default 1
 *   <li>{@code min_p} (extension, as in vLLM): number in [0, 1], default 0 (off)
 *   <li>{@code stop}: a non-empty string or an array of at most 4 non-empty strings; {@code seed}: a 64-bit integer
 *   <li>{@code presence_penalty}, {@code frequency_penalty}: numbers in [-2, 2], default 0
 *   <li>{@code repetition_penalty} (extension, as in vLLM and Hugging Face): number in (0, 10], default 1 (off)
 *   <li>{@code min_tokens} (extension, as in vLLM): integer in [0, max_tokens], default 0
 *   <li>{@code logit_bias}: an object of token ids (decimal strings) to numbers in [-100, 100]
 *   <li>{@code ignore_eos} (extension, as in vLLM): a boolean, default false; true generates max_tokens tokens
 *       even past the end-of-sequence token (benchmarks, fixed-length output)
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
  static final Set<String> NAMES = Set.of("max_tokens", "temperature", "top_p", "top_k", "min_p", "n", "stop", "seed",
      "presence_penalty", "frequency_penalty", "repetition_penalty", "min_tokens", "logit_bias", "ignore_eos", "user",
      "metadata", "timeout_seconds");

  private SamplingFields() {}

  /**
   * Reads the shared fields of {@code body} into {@code spec}, in a fixed order: the first problem is reported.
   * {@code maxTokensNames} are the names the endpoint takes the token limit under ({@code max_tokens}, and
   * {@code max_completion_tokens} on chat).
   */
  static RequestSpec.Builder read(JsonBody body, RequestRules.Limits limits, List<String> maxTokensNames,
      RequestSpec.Builder spec) {
    Integer maxTokens = maxTokens(body, limits, maxTokensNames);
    Double temperature = body.within(RequestRules.TEMPERATURE, body.number("temperature"));
    Double topP = body.within(RequestRules.TOP_P, body.number("top_p"));
    Integer topK = body.within(RequestRules.TOP_K, body.integer("top_k"));
    Double minP = body.within(RequestRules.MIN_P, body.number("min_p"));
    Integer n = body.within(RequestRules.n(limits), body.integer("n"));
    List<String> stop = stop(body);
    Long seed = body.longInteger("seed");
    Double presence = body.within(RequestRules.PRESENCE_PENALTY, body.number("presence_penalty"));
    Double frequency = body.within(RequestRules.FREQUENCY_PENALTY, body.number("frequency_penalty"));
    Double repetition = body.within(RequestRules.REPETITION_PENALTY, body.number("repetition_penalty"));
    int max = maxTokens == null ? Math.min(SamplingParams.DEFAULT_MAX_TOKENS, limits.maxTokens()) : maxTokens;
    Integer minTokens = body.within(RequestRules.MIN_TOKENS, body.integer("min_tokens"));
    if (minTokens != null) {
      RequestRules.minTokens(minTokens, max).ifPresent(violation -> {
        throw ApiError.invalid(violation.param(), "invalid_value", violation.message());
      });
    }
    Map<Integer, Double> logitBias = logitBias(body);
    Boolean ignoreEos = body.bool("ignore_eos");

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
        .sampling(s -> {
          // What the body leaves out keeps the builder's default.
          s.maxTokens(max).stop(stop).seed(seed).logitBias(logitBias).ignoreEos(Boolean.TRUE.equals(ignoreEos));
          ifPresent(temperature, s::temperature);
          ifPresent(topP, s::topP);
          ifPresent(topK, s::topK);
          ifPresent(minP, s::minP);
          ifPresent(n, s::n);
          ifPresent(presence, s::presencePenalty);
          ifPresent(frequency, s::frequencyPenalty);
          ifPresent(repetition, s::repetitionPenalty);
          ifPresent(minTokens, s::minTokens);
          return s;
        })
        .metadata(metadata)
        // Deadlines travel in milliseconds; anything positive gets at least one.
        .timeout(timeout == null ? null : Duration.ofMillis(Math.max(1, Math.round(timeout * 1000))));
  }

  private static <T> void ifPresent(T value, Consumer<T> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }

  /** The token limit under any of its names; two names given with different values is a mistake, not a choice. */
  private static Integer maxTokens(JsonBody body, RequestRules.Limits limits, List<String> names) {
    RequestRules.Range<Integer> range = RequestRules.maxTokens(limits);
    Integer chosen = null;
    String chosenName = null;
    for (String name : names) {
      RequestRules.Range<Integer> named = new RequestRules.Range<>(name, range.expected(), range::allows);
      Integer value = body.within(named, body.integer(name));
      if (value == null) {
        continue;
      }
      if (chosen != null && !chosen.equals(value)) {
        throw ApiError.invalid(name, "invalid_value", "Invalid '" + name + "': " + chosenName + " is " + chosen
            + " and " + name + " is " + value + "; send one of them (they are the same limit).");
      }
      chosen = value;
      chosenName = name;
    }
    return chosen;
  }

  /** OpenAI's {@code logit_bias}: token ids as decimal strings, to numbers added to those tokens' logits. */
  private static Map<Integer, Double> logitBias(JsonBody body) {
    JsonNode v = body.present("logit_bias");
    if (v == null) {
      return Map.of();
    }
    if (!v.isObject()) {
      throw JsonBody.wrongType("logit_bias", "an object", v);
    }
    Map<String, Double> bias = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      String token = e.getKey();
      // Checked alone first, so the message repeats a bad key shortened.
      if (RequestRules.logitBias(Map.of(token, 0.0)).isPresent()) {
        throw ApiError.invalid("logit_bias", "invalid_value", "Invalid 'logit_bias': keys must be token ids, got '"
            + JsonBody.shown(token) + "'.");
      }
      JsonNode value = e.getValue();
      if (!value.isNumber()) {
        throw ApiError.invalid("logit_bias", "invalid_type", "Invalid type for 'logit_bias." + token
            + "': expected a number, but got " + JsonBody.describe(value) + " instead.");
      }
      if (!Double.isFinite(value.doubleValue())) {
        throw JsonBody.outOfRange("logit_bias", "a finite number", value);
      }
      bias.put(token, value.doubleValue());
    }
    RequestRules.logitBias(bias).ifPresent(violation -> {
      throw ApiError.invalid("logit_bias", "invalid_value", violation.message());
    });
    Map<Integer, Double> byToken = new LinkedHashMap<>();
    bias.forEach((token, value) -> byToken.put(Integer.parseInt(token), value));
    return byToken;
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
}
