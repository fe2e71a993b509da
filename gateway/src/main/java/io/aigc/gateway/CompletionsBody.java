package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Tasks;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An OpenAI {@code /v1/completions} request body, checked and turned into a {@link GenerationCall}, or the
 * {@link ApiError} (400, {@code invalid_request_error}; 404 for an unknown model) that names the first problem
 * found. Beyond the strict JSON of {@link JsonBody} and the shared {@link SamplingFields}:
 * <ul>
 *   <li>{@code prompt}: required, a non-empty string (or an array of exactly one string), text; unless
 *       {@code task} names one of the deployment's {@link Tasks} (extension), whose template the tokenizer stage
 *       renders with {@code task_fields}, an object of strings: the task's required fields, non-empty, and any of its
 *       optional ones. A task request has no prompt
 *   <li>{@code model}: optional; when present, a served model's name
 *   <li>{@code logprobs}: null (off) or an integer in [0, 5], OpenAI's limit on this endpoint: the log-probability
 *       of each generated token and of that many most likely alternatives
 *   <li>{@code stream}: a boolean; {@code stream_options}: {@code {"include_usage": boolean}}, with stream only
 *   <li>{@code echo}, {@code best_of}, {@code suffix}: accepted only at their neutral values (false, n, "")
 *   <li>any other field: "Unrecognized request argument supplied: X"
 * </ul>
 * Plain Java and thread-safe.
 */
record CompletionsBody(ServedModels models, RequestRules.Limits limits, Tasks tasks)
    implements GenerationCall.Reader {
  static final int MAX_LOGPROBS = 5;
  private static final RequestRules.Range<Integer> LOGPROBS = new RequestRules.Range<>("logprobs",
      "an integer between 0 and " + MAX_LOGPROBS, v -> v >= 0 && v <= MAX_LOGPROBS);
  private static final Set<String> FIELDS = fields();

  @Override
  public GenerationCall read(byte[] bytes) {
    JsonBody body = JsonBody.parse(bytes, FIELDS);
    String model = models.check(body.string("model"));
    RequestSpec.Builder spec = (body.present("task") != null ? task(body) : RequestSpec.builder().prompt(prompt(body)))
        .model(model);
    SamplingFields.read(body, limits, List.of("max_tokens"), spec);
    Integer logprobs = body.within(LOGPROBS, body.integer("logprobs"));
    spec.sampling(s -> s.logprobs(logprobs == null ? -1 : logprobs));
    RequestSpec request = spec.build();
    rejectUnsupported(body, request.sampling().n());
    return GenerationCall.of(body, request);
  }

  /** A named task and its fields, checked against the deployment's tasks so that a mistake is a 400 now. */
  private RequestSpec.Builder task(JsonBody body) {
    String task = body.string("task");
    if (body.present("prompt") != null) {
      throw ApiError.invalid("prompt", "invalid_value", "Invalid 'prompt': not allowed with 'task' (the task's "
          + "template makes the prompt from 'task_fields').");
    }
    Map<String, String> fields = new LinkedHashMap<>();
    JsonNode v = body.present("task_fields");
    if (v != null) {
      if (!v.isObject()) {
        throw JsonBody.wrongType("task_fields", "an object", v);
      }
      for (Map.Entry<String, JsonNode> e : v.properties()) {
        String field = JsonBody.text("task_fields", e.getKey());
        if (!e.getValue().isTextual()) {
          throw ApiError.invalid("task_fields", "invalid_type", "Invalid type for 'task_fields." + JsonBody.shown(field)
              + "': expected a string, but got " + JsonBody.describe(e.getValue()) + " instead.");
        }
        fields.put(field, JsonBody.text("task_fields", e.getValue().textValue()));
      }
    }
    tasks.check(JsonBody.text("task", task), fields).ifPresent(violation -> {
      throw ApiError.invalid(violation.param(), "invalid_value", violation.message());
    });
    return RequestSpec.builder().task(task, fields);
  }

  private static String prompt(JsonBody body) {
    if (body.present("task_fields") != null) {
      throw ApiError.invalid("task_fields", "invalid_value", "Invalid 'task_fields': only with a 'task'.");
    }
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

  /** OpenAI parameters this server does not implement, accepted only where they change nothing. */
  private static void rejectUnsupported(JsonBody body, int n) {
    if (Boolean.TRUE.equals(body.bool("echo"))) {
      throw unsupported("echo", "'echo' is not supported; only false is accepted.");
    }
    Integer bestOf = body.integer("best_of");
    if (bestOf != null && bestOf != n) {
      throw unsupported("best_of", "'best_of' is not supported; only a value equal to n (" + n + ") is accepted.");
    }
    String suffix = body.string("suffix");
    if (suffix != null && !suffix.isEmpty()) {
      throw unsupported("suffix", "'suffix' is not supported; only an empty string is accepted.");
    }
  }

  static ApiError unsupported(String field, String message) {
    return ApiError.invalid(field, "unsupported_parameter", message);
  }

  private static Set<String> fields() {
    Set<String> fields = new HashSet<>(SamplingFields.NAMES);
    fields.addAll(Set.of("model", "prompt", "stream", "stream_options", "logprobs", "echo", "best_of", "suffix",
        "task", "task_fields"));
    return Set.copyOf(fields);
  }
}
