package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.schemas.ChatMessage;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An OpenAI {@code /v1/chat/completions} request body, checked and turned into a {@link GenerationCall}, or the
 * {@link ApiError} that names the first problem found. Beyond the strict JSON of {@link JsonBody} and the shared
 * {@link SamplingFields}:
 * <ul>
 *   <li>{@code messages}: required, a non-empty array of {@code {role, content, name?}}. {@code role} is system,
 *       user, assistant or developer (sent on as system: OpenAI's newer name for it, which few chat templates know);
 *       {@code content} is a string or an array of text parts ({@code {"type": "text", "text": ...}}), joined with
 *       newlines as vLLM does; {@code name} is accepted and not passed on (the contract has no place for it). Images,
 *       audio, files and tool messages are refused
 *   <li>{@code max_completion_tokens}: OpenAI's newer name for {@code max_tokens}
 *   <li>{@code logprobs}: a boolean; {@code top_logprobs}: an integer in [0, 20], only with logprobs true
 *   <li>{@code response_format}: {@code {"type": "text"}} only
 *   <li>{@code tools}, {@code tool_choice}, {@code functions}, {@code function_call}: refused unless neutral (none,
 *       or an empty list); {@code parallel_tool_calls} is accepted and means nothing without tools
 *   <li>{@code model}, {@code stream}, {@code stream_options}: as on {@code /v1/completions}
 * </ul>
 * Plain Java and thread-safe.
 */
record ChatCompletionsBody(ServedModels models, RequestRules.Limits limits) implements GenerationCall.Reader {
  private static final Set<String> FIELDS = fields();
  private static final Set<String> MESSAGE_FIELDS = Set.of("role", "content", "name");
  private static final Set<String> TOOL_MESSAGE_FIELDS = Set.of("tool_calls", "tool_call_id", "function_call");
  private static final RequestRules.Range<Integer> TOP_LOGPROBS = new RequestRules.Range<>("top_logprobs",
      RequestRules.LOGPROBS.expected(), RequestRules.LOGPROBS::allows);

  @Override
  public GenerationCall read(byte[] bytes) {
    JsonBody body = JsonBody.parse(bytes, FIELDS);
    String model = models.check(body.string("model"));
    RequestSpec.Builder spec = RequestSpec.builder().model(model).messages(messages(body));
    SamplingFields.read(body, limits, List.of("max_tokens", "max_completion_tokens"), spec);
    int logprobs = logprobs(body);
    spec.sampling(s -> s.logprobs(logprobs));
    rejectUnsupported(body);
    return GenerationCall.of(body, spec.build());
  }

  private static List<RequestSpec.Message> messages(JsonBody body) {
    JsonNode v = body.present("messages");
    if (v == null) {
      throw ApiError.invalid("messages", "missing_required_parameter", "Missing required parameter: 'messages'.");
    }
    if (!v.isArray()) {
      throw JsonBody.wrongType("messages", "an array", v);
    }
    List<RequestSpec.Message> messages = new ArrayList<>(v.size());
    for (int i = 0; i < v.size(); i++) {
      messages.add(message("messages[" + i + "]", v.get(i)));
    }
    RequestRules.messages(messages.stream().map(m -> new ChatMessage(m.role(), m.content())).toList())
        .ifPresent(violation -> {
          throw ApiError.invalid(violation.param(), "invalid_value", violation.message());
        });
    return messages;
  }

  private static RequestSpec.Message message(String at, JsonNode m) {
    if (!m.isObject()) {
      throw JsonBody.wrongType(at, "an object", m);
    }
    for (Map.Entry<String, JsonNode> field : m.properties()) {
      String name = at + "." + JsonBody.shown(field.getKey());
      if (TOOL_MESSAGE_FIELDS.contains(field.getKey())) {
        throw CompletionsBody.unsupported(name, "Tool calls are not supported by this server.");
      }
      if (!MESSAGE_FIELDS.contains(field.getKey())) {
        throw ApiError.invalid(name, "unknown_parameter", "Unrecognized request argument supplied: " + name);
      }
    }
    String role = role(at + ".role", required(at + ".role", m.get("role")));
    String content = content(at + ".content", required(at + ".content", m.get("content")));
    JsonNode name = m.get("name");
    if (name != null && !name.isNull() && !name.isTextual()) {
      throw JsonBody.wrongType(at + ".name", "a string", name);
    }
    return new RequestSpec.Message(role, content);
  }

  private static JsonNode required(String param, JsonNode v) {
    if (v == null || v.isNull()) {
      throw ApiError.invalid(param, "missing_required_parameter", "Missing required parameter: '" + param + "'.");
    }
    return v;
  }

  private static String role(String param, JsonNode v) {
    if (!v.isTextual()) {
      throw JsonBody.wrongType(param, "a string", v);
    }
    return switch (v.textValue()) {
      case "system", "user", "assistant" -> v.textValue();
      case "developer" -> "system";
      case "tool", "function" -> throw CompletionsBody.unsupported(param,
          "Tool messages are not supported by this server.");
      default -> throw ApiError.invalid(param, "invalid_value", "Invalid '" + param + "': expected one of system, "
          + "user, assistant or developer, but got '" + JsonBody.shown(v.textValue()) + "' instead.");
    };
  }

  /** A string, or text parts joined with newlines. */
  private static String content(String param, JsonNode v) {
    if (v.isTextual()) {
      return JsonBody.text(param, v.textValue());
    }
    if (!v.isArray()) {
      throw JsonBody.wrongType(param, "a string or an array of content parts", v);
    }
    List<String> texts = new ArrayList<>(v.size());
    for (int i = 0; i < v.size(); i++) {
      String at = param + "[" + i + "]";
      JsonNode part = v.get(i);
      if (!part.isObject()) {
        throw JsonBody.wrongType(at, "an object", part);
      }
      JsonNode type = required(at + ".type", part.get("type"));
      if (!type.isTextual()) {
        throw JsonBody.wrongType(at + ".type", "a string", type);
      }
      if (!type.textValue().equals("text")) {
        throw ApiError.invalid(at + ".type", "invalid_value", "Invalid '" + at + ".type': only text content parts "
            + "are supported by this server, but got '" + JsonBody.shown(type.textValue()) + "'.");
      }
      for (Map.Entry<String, JsonNode> field : part.properties()) {
        if (!field.getKey().equals("type") && !field.getKey().equals("text")) {
          String name = at + "." + JsonBody.shown(field.getKey());
          throw ApiError.invalid(name, "unknown_parameter", "Unrecognized request argument supplied: " + name);
        }
      }
      JsonNode text = required(at + ".text", part.get("text"));
      if (!text.isTextual()) {
        throw JsonBody.wrongType(at + ".text", "a string", text);
      }
      texts.add(JsonBody.text(at + ".text", text.textValue()));
    }
    return String.join("\n", texts);
  }

  /** {@code logprobs} and {@code top_logprobs} as one number: -1 (none), or how many alternatives. */
  private static int logprobs(JsonBody body) {
    boolean on = Boolean.TRUE.equals(body.bool("logprobs"));
    Integer top = body.within(TOP_LOGPROBS, body.integer("top_logprobs"));
    if (top != null && !on) {
      throw ApiError.invalid("top_logprobs", "invalid_value",
          "Invalid 'top_logprobs': it requires 'logprobs' to be true.");
    }
    return on ? (top == null ? 0 : top) : -1;
  }

  private static void rejectUnsupported(JsonBody body) {
    JsonNode format = body.present("response_format");
    if (format != null) {
      if (!format.isObject()) {
        throw JsonBody.wrongType("response_format", "an object", format);
      }
      JsonNode type = format.get("type");
      if (format.size() != 1 || type == null || !type.isTextual() || !type.textValue().equals("text")) {
        throw CompletionsBody.unsupported("response_format",
            "'response_format' is not supported; only {\"type\": \"text\"} is accepted.");
      }
    }
    for (String list : List.of("tools", "functions")) {
      JsonNode v = body.present(list);
      if (v != null && !(v.isArray() && v.isEmpty())) {
        throw CompletionsBody.unsupported(list, "'" + list + "' is not supported: this server does not call tools.");
      }
    }
    for (String choice : List.of("tool_choice", "function_call")) {
      JsonNode v = body.present(choice);
      if (v != null && !(v.isTextual() && v.textValue().equals("none"))) {
        throw CompletionsBody.unsupported(choice,
            "'" + choice + "' is not supported: this server does not call tools; only \"none\" is accepted.");
      }
    }
    body.bool("parallel_tool_calls");
  }

  private static Set<String> fields() {
    Set<String> fields = new HashSet<>(SamplingFields.NAMES);
    fields.addAll(Set.of("model", "messages", "max_completion_tokens", "logprobs", "top_logprobs", "stream",
        "stream_options", "response_format", "tools", "tool_choice", "functions", "function_call",
        "parallel_tool_calls"));
    return Set.copyOf(fields);
  }
}
