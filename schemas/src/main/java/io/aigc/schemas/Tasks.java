package io.aigc.schemas;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The named tasks a deployment offers: a request names one ({@code task}) with its fields ({@code task_fields})
 * instead of writing a prompt, and the tokenizer stage renders the task's prompt template with them. Each task has a
 * prompt template (Jinja, the fields as variables), the fields it requires and those it also takes, and default
 * parameters. The built-in tasks ({@code tasks.json} beside this class: news-summary, ad-copy, email-reply,
 * lesson-outline) are extended by the operator's file, in the same format, named by {@code AIGC_TASKS_FILE} in both
 * the gateway (which checks a task's name and fields, for an early 400) and the tokenizer-service (which checks again
 * for producers that bypass the gateway, and renders):
 *
 * <pre>{"tasks": {"news-summary": {"description": "...", "template": "Title: {{ title }} ...",
 *   "required": ["title", "body"], "optional": ["source"], "defaults": {"max_tokens": 96, "temperature": 0.3}}}}</pre>
 *
 * A task of the file replaces the built-in task of the same name; {@code "name": null} removes it.
 *
 * <p>Defaults: a parameter the request leaves at the contract's default (max_tokens 16, temperature 1, no stop...)
 * takes the task's default. The rule looks at values, not at whether a field was sent, so it gives the same result
 * whichever way a request arrives: Avro records cannot tell a default from a value set to it. Immutable.
 */
public final class Tasks {
  /** The task the news digest example consumes. */
  public static final String NEWS_SUMMARY = "news-summary";
  /** The parameters a task may give defaults for: the sampling and stopping ones, not n, seed or logprobs. */
  public static final Set<String> DEFAULTABLE = Set.of("max_tokens", "temperature", "top_p", "top_k", "min_p", "stop",
      "presence_penalty", "frequency_penalty", "repetition_penalty", "min_tokens");
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Pattern FIELD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
  private static final Set<String> TASK_KEYS = Set.of("description", "template", "required", "optional", "defaults");
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /**
   * One task.
   *
   * @param template the prompt template (Jinja): the fields are its variables, an optional field left out is
   *     undefined ({@code {% if source %}} tests it)
   * @param required fields a request must give, non-empty
   * @param optional fields a request may give
   * @param defaults parameter name (as in the API) to its default: an Integer, a Double or a list of strings
   */
  public record Task(String name, String description, String template, List<String> required,
      List<String> optional, Map<String, Object> defaults) {
    public Task {
      required = List.copyOf(required);
      optional = List.copyOf(optional);
      defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
    }

    /** Every field the task takes, required first. */
    public List<String> fields() {
      List<String> all = new ArrayList<>(required);
      all.addAll(optional);
      return all;
    }

    /** {@code params} with each parameter still at the contract's default replaced by this task's default. */
    public GenerationParams applyDefaults(GenerationParams params) {
      GenerationParams contract = GenerationParams.newBuilder().build();
      GenerationParams out = GenerationParams.newBuilder(params).build();
      // Each defaultable parameter is the params' field of its API name, and its value was typed when the tasks
      // were read (Tasks#defaults).
      defaults.forEach((param, value) -> {
        if (Objects.equals(params.get(param), contract.get(param))) {
          out.put(param, value);
        }
      });
      // A default min_tokens never exceeds the request's own max_tokens: the request could not end as asked.
      if (params.getMinTokens() == contract.getMinTokens() && out.getMinTokens() > out.getMaxTokens()) {
        out.setMinTokens(out.getMaxTokens());
      }
      return out;
    }

    /** The request's fields checked against this task's: every required one given and non-empty, no stranger. */
    public Optional<RequestRules.Violation> check(Map<String, String> fields) {
      for (String field : required) {
        String value = fields.get(field);
        if (value == null || value.isEmpty()) {
          return Optional.of(new RequestRules.Violation("task_fields", "Invalid 'task_fields': the task '" + name
              + "' requires the field '" + field + "'" + (value == null ? "." : ", and it is empty.")));
        }
      }
      for (String field : fields.keySet()) {
        if (!required.contains(field) && !optional.contains(field)) {
          return Optional.of(new RequestRules.Violation("task_fields", "Invalid 'task_fields': the task '" + name
              + "' has no field '" + shown(field) + "'; its fields are " + String.join(", ", fields()) + "."));
        }
      }
      return Optional.empty();
    }
  }

  private final Map<String, Task> tasks;

  private Tasks(Map<String, Task> tasks) {
    this.tasks = Collections.unmodifiableMap(new LinkedHashMap<>(tasks));
  }

  /** The built-in tasks alone. */
  public static Tasks builtIn() {
    try (InputStream in = Tasks.class.getResourceAsStream("tasks.json")) {
      if (in == null) {
        throw new IllegalStateException("the built-in tasks.json is missing from the classpath");
      }
      return new Tasks(parse("the built-in tasks.json", new String(in.readAllBytes(),
          StandardCharsets.UTF_8), new LinkedHashMap<>()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The built-in tasks, extended and overridden by {@code file} (null: the built-in ones alone).
   *
   * @throws IllegalArgumentException naming the file and the problem, when it cannot be read or is not a valid
   *     tasks file: a deployment with a broken tasks file should not start
   */
  public static Tasks load(Path file) {
    Tasks builtIn = builtIn();
    if (file == null) {
      return builtIn;
    }
    String json;
    try {
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("AIGC_TASKS_FILE " + file + " cannot be read: " + e, e);
    }
    return new Tasks(parse("AIGC_TASKS_FILE " + file, json, new LinkedHashMap<>(builtIn.tasks)));
  }

  /** Tasks from {@code json} (a tasks file), over {@code base}. */
  public static Tasks parse(String json, Tasks base) {
    return new Tasks(parse("tasks", json, new LinkedHashMap<>(base.tasks)));
  }

  public Optional<Task> get(String name) {
    return Optional.ofNullable(tasks.get(name));
  }

  /** Every task, in the order of the files. */
  public Collection<Task> all() {
    return tasks.values();
  }

  /**
   * What is wrong with asking for {@code task} with {@code fields} here: an unknown task, a required field missing
   * or empty, a field the task does not have.
   */
  public Optional<RequestRules.Violation> check(String task, Map<String, String> fields) {
    Task t = tasks.get(task);
    if (t == null) {
      return Optional.of(new RequestRules.Violation("task", "Invalid 'task': there is no task '" + shown(task)
          + "'" + (tasks.isEmpty() ? "; this deployment has none." : "; this deployment has "
          + String.join(", ", tasks.keySet()) + ".")));
    }
    return t.check(fields);
  }

  private static String shown(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "...";
  }

  private static Map<String, Task> parse(String what, String json, Map<String, Task> tasks) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject() || root.size() != 1 || !root.path("tasks").isObject()) {
      throw new IllegalArgumentException(what + " must be an object with one member, \"tasks\": an object of "
          + "tasks by name");
    }
    for (Map.Entry<String, JsonNode> e : root.get("tasks").properties()) {
      String name = e.getKey();
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(what + ": the task name '" + shown(name) + "' is not 1 to 64 of a-z, "
            + "0-9, '.', '_' and '-' (starting with a letter or digit)");
      }
      if (e.getValue().isNull()) {
        tasks.remove(name);
      } else {
        tasks.put(name, task(what + ", task '" + name + "'", name, e.getValue()));
      }
    }
    return tasks;
  }

  private static Task task(String what, String name, JsonNode node) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(what + " must be an object (or null, to remove it)");
    }
    node.fieldNames().forEachRemaining(key -> {
      if (!TASK_KEYS.contains(key)) {
        throw new IllegalArgumentException(what + " has an unknown member '" + key + "'; a task has "
            + String.join(", ", TASK_KEYS));
      }
    });
    JsonNode template = node.get("template");
    if (template == null || !template.isTextual() || template.textValue().isEmpty()) {
      throw new IllegalArgumentException(what + " needs a \"template\": a non-empty string");
    }
    JsonNode description = node.get("description");
    if (description != null && !description.isTextual()) {
      throw new IllegalArgumentException(what + ": \"description\" must be a string");
    }
    List<String> required = names(what, "required", node.get("required"));
    List<String> optional = names(what, "optional", node.get("optional"));
    Set<String> all = new LinkedHashSet<>(required);
    for (String field : optional) {
      if (!all.add(field)) {
        throw new IllegalArgumentException(what + ": the field '" + field + "' is listed twice");
      }
    }
    if (required.isEmpty()) {
      throw new IllegalArgumentException(what + " needs at least one required field");
    }
    Map<String, Object> defaults = defaults(what, node.get("defaults"));
    Task task = new Task(name, description == null ? "" : description.textValue(), template.textValue(), required,
        optional, defaults);
    // The defaults obey the contract's rules, checked once here rather than failing every request of the task.
    List<RequestRules.Violation> violations = RequestRules.check(
        task.applyDefaults(GenerationParams.newBuilder().build()), RequestRules.Limits.NONE);
    if (!violations.isEmpty()) {
      throw new IllegalArgumentException(what + ", defaults: " + violations.get(0).message());
    }
    return task;
  }

  private static List<String> names(String what, String member, JsonNode node) {
    List<String> names = new ArrayList<>();
    if (node == null) {
      return names;
    }
    if (!node.isArray()) {
      throw new IllegalArgumentException(what + ": \"" + member + "\" must be an array of field names");
    }
    for (JsonNode n : node) {
      if (!n.isTextual() || !FIELD.matcher(n.textValue()).matches()) {
        throw new IllegalArgumentException(what + ": \"" + member + "\" has " + n + ", not a field name (1 to 64 of"
            + " A-Z, a-z, 0-9 and '_', not starting with a digit: the template's variables)");
      }
      if (names.contains(n.textValue())) {
        throw new IllegalArgumentException(what + ": the field '" + n.textValue() + "' is listed twice");
      }
      names.add(n.textValue());
    }
    return names;
  }

  private static Map<String, Object> defaults(String what, JsonNode node) {
    Map<String, Object> defaults = new LinkedHashMap<>();
    if (node == null) {
      return defaults;
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException(what + ": \"defaults\" must be an object of parameters");
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String param = e.getKey();
      JsonNode v = e.getValue();
      Object value = switch (param) {
        case "max_tokens", "top_k", "min_tokens" -> v.canConvertToInt() && v.isIntegralNumber() ? v.intValue()
            : null;
        case "temperature", "top_p", "min_p", "presence_penalty", "frequency_penalty", "repetition_penalty" ->
            v.isNumber() ? v.doubleValue() : null;
        case "stop" -> stop(v);
        default -> throw new IllegalArgumentException(what + ": \"defaults\" has '" + param + "', which a task "
            + "cannot set; it may set " + String.join(", ", new TreeSet<>(DEFAULTABLE)));
      };
      if (value == null) {
        throw new IllegalArgumentException(what + ": the default '" + param + "' has the wrong type: " + v);
      }
      defaults.put(param, value);
    }
    return defaults;
  }

  private static List<String> stop(JsonNode v) {
    List<String> stop = new ArrayList<>();
    if (v.isTextual()) {
      stop.add(v.textValue());
    } else if (v.isArray()) {
      for (JsonNode s : v) {
        if (!s.isTextual()) {
          return null;
        }
        stop.add(s.textValue());
      }
    } else {
      return null;
    }
    return List.copyOf(stop);
  }
}
