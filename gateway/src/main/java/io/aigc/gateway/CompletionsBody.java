package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import java.util.HashSet;
import java.util.Set;

/**
 * An OpenAI {@code /v1/completions} request body, checked and turned into a {@link RequestSpec}, or the
 * {@link ApiError} (400, {@code invalid_request_error}) that names the first problem found. Beyond the strict JSON
 * of {@link JsonBody} and the shared {@link SamplingFields}:
 * <ul>
 *   <li>{@code prompt}: required, a non-empty string (or an array of exactly one string), text
 *   <li>{@code model}: optional; when present, the served model's name
 *   <li>{@code stream}: false only (streaming is not supported yet)
 *   <li>any other field: "Unrecognized request argument supplied: X"
 * </ul>
 * Plain Java and thread-safe.
 */
final class CompletionsBody {
  private static final Set<String> FIELDS = fields();

  private final String modelName;
  private final RequestRules.Limits limits;

  CompletionsBody(String modelName, RequestRules.Limits limits) {
    this.modelName = modelName;
    this.limits = limits;
  }

  RequestSpec read(byte[] bytes) {
    JsonBody body = JsonBody.parse(bytes, FIELDS);
    if (Boolean.TRUE.equals(body.bool("stream"))) {
      throw ApiError.invalid("stream", "unsupported_parameter",
          "Streaming is not supported yet: send \"stream\": false (or leave it out).");
    }
    String model = body.string("model");
    if (model != null && !model.equals(modelName)) {
      throw ApiError.invalid("model", "model_not_found",
          "The model '" + JsonBody.shown(model) + "' does not exist. This server serves '" + modelName + "'.");
    }
    RequestSpec.Builder spec = RequestSpec.builder().prompt(prompt(body));
    return SamplingFields.read(body, limits, spec).build();
  }

  private static String prompt(JsonBody body) {
    JsonNode v = body.present("prompt");
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
      throw JsonBody.wrongType("prompt", "a string", v);
    }
    if (v.textValue().isEmpty()) {
      throw ApiError.invalid("prompt", "invalid_value", "Invalid 'prompt': must not be empty.");
    }
    return JsonBody.text("prompt", v.textValue());
  }

  private static Set<String> fields() {
    Set<String> fields = new HashSet<>(SamplingFields.NAMES);
    fields.addAll(Set.of("model", "prompt", "stream"));
    return Set.copyOf(fields);
  }
}
