package io.aigc.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A batch's input file, read as OpenAI reads it: one JSON object per line, {@code {"custom_id", "method": "POST",
 * "url", "body"}}, every url the batch's endpoint, custom ids unique. A file that breaks these rules fails the whole
 * batch with one error per problem (as OpenAI's {@code errors.data}, with the line number); a line whose
 * {@code body} is not a valid request does not: it is the endpoint's body reader that judges it later, and its error
 * goes to the batch's error file.
 */
final class BatchInput {
  /** OpenAI's limit on requests per batch. */
  static final int MAX_LINES = 50_000;
  /** Errors reported per failed file, as OpenAI lists the first ones. */
  private static final int MAX_ERRORS = 100;
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** One request of the batch; {@code body} is the raw JSON text of its {@code body}. */
  record Line(int index, String customId, String body) {}

  /** A reason the file cannot run, in OpenAI's {@code errors.data} shape; {@code line} is 1-based, or null. */
  record Problem(String code, String message, String param, Integer line) {
    JsonObject toJson() {
      return new JsonObject().put("code", code).put("message", message).put("param", param).put("line", line);
    }

    static Problem fromJson(JsonObject o) {
      return new Problem(o.getString("code"), o.getString("message"), o.getString("param"), o.getInteger("line"));
    }
  }

  /** The lines, or why the file cannot run (then {@code lines} is empty). */
  record Parsed(List<Line> lines, List<Problem> problems) {}

  private BatchInput() {}

  static Parsed read(Path file, String endpoint) throws IOException {
    List<Line> lines = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String text;
      int number = 0;
      while ((text = in.readLine()) != null && problems.size() < MAX_ERRORS) {
        number++;
        if (text.isBlank()) {
          continue;
        }
        if (lines.size() + problems.size() >= MAX_LINES) {
          problems.add(new Problem("too_many_tasks", "A batch may have at most " + MAX_LINES + " requests.", null,
              number));
          break;
        }
        Problem problem = check(text, number, endpoint, ids, lines);
        if (problem != null) {
          problems.add(problem);
        }
      }
    } catch (CharacterCodingException e) {
      problems.add(new Problem("invalid_json_line", "The file is not UTF-8 text.", null, null));
    }
    if (problems.isEmpty() && lines.isEmpty()) {
      problems.add(new Problem("empty_file", "The input file has no requests.", null, null));
    }
    return problems.isEmpty() ? new Parsed(List.copyOf(lines), List.of()) : new Parsed(List.of(), problems);
  }

  private static Problem check(String text, int number, String endpoint, Set<String> ids, List<Line> lines) {
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return new Problem("invalid_json_line", "This line is not parseable as valid JSON.", null, number);
    }
    if (node == null || !node.isObject()) {
      return new Problem("invalid_json_line", "This line is not a JSON object.", null, number);
    }
    JsonNode customId = node.get("custom_id");
    if (customId == null || !customId.isTextual() || customId.textValue().isEmpty()) {
      return new Problem("missing_required_parameter", "Each line needs a non-empty string 'custom_id'.",
          "custom_id", number);
    }
    JsonNode method = node.get("method");
    if (method == null || !"POST".equals(method.textValue())) {
      return new Problem("invalid_method", "The method of each request must be 'POST'.", "method", number);
    }
    JsonNode url = node.get("url");
    if (url == null || !url.isTextual() || !endpoint.equals(url.textValue())) {
      return new Problem("mismatched_endpoint", "The url of each request must be the batch's endpoint, "
          + endpoint + ".", "url", number);
    }
    JsonNode body = node.get("body");
    if (body == null || !body.isObject()) {
      return new Problem("missing_required_parameter", "Each line needs a JSON object 'body'.", "body", number);
    }
    for (var field : (Iterable<String>) node::fieldNames) {
      if (!Set.of("custom_id", "method", "url", "body").contains(field)) {
        return new Problem("invalid_request", "Unrecognized field '" + JsonBody.shown(field) + "'.", field, number);
      }
    }
    if (!ids.add(customId.textValue())) {
      return new Problem("duplicate_custom_id", "The custom_id '" + JsonBody.shown(customId.textValue())
          + "' is used more than once; each must be unique.", "custom_id", number);
    }
    lines.add(new Line(lines.size(), customId.textValue(), body.toString()));
    return null;
  }
}
