package io.aigc.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.aigc.gateway.ApiShapes;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.Tasks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A batch input file as OpenAI's Batch API takes it: one JSON object per line, {@code {custom_id, method, url,
 * body}}, for {@code /v1/completions} and {@code /v1/chat/completions}. Each body is read by the endpoint's own
 * reader ({@link ApiShapes#read}), so a line the API would refuse gets the API's error in the output. A line without
 * a readable {@code custom_id}, or with one used before, makes the whole file invalid (its answer could not be told
 * apart), before anything is published.
 *
 * <p>Job ids are derived, not drawn: a hash of the file's contents and the line's {@code custom_id}, so a rerun of the
 * same file names the same jobs and can tell which it published already.
 */
record BatchInput(String sha256, List<Line> lines) {
  private static final JsonMapper JSON = new JsonMapper();
  private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

  /**
   * One line of the file.
   *
   * @param number its line number, from 1
   * @param jobId the job's id, also its request id on every topic
   */
  record Line(int number, String customId, String jobId, ApiShapes.Read read) {}

  /** {@code file}'s lines, each read as its endpoint reads it, with {@code tasks} the named tasks there are. */
  static BatchInput parse(byte[] file, Tasks tasks) {
    String sha256 = HexFormat.of().formatHex(sha256(file));
    List<Line> lines = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    String[] texts = new String(file, StandardCharsets.UTF_8).split("\n", -1);
    for (int i = 0; i < texts.length; i++) {
      String text = texts[i].strip();
      if (text.isEmpty()) {
        continue;
      }
      int number = i + 1;
      JsonNode line;
      try {
        line = JSON.readTree(text);
      } catch (JsonProcessingException e) {
        throw invalid(number, "not JSON (" + e.getOriginalMessage() + ")");
      }
      if (line == null || !line.isObject()) {
        throw invalid(number, "not a JSON object");
      }
      JsonNode customId = line.get("custom_id");
      if (customId == null || !customId.isTextual() || customId.textValue().isEmpty()) {
        throw invalid(number, "no custom_id (a non-empty string)");
      }
      Integer before = seen.putIfAbsent(customId.textValue(), number);
      if (before != null) {
        throw invalid(number, "custom_id '" + customId.textValue() + "' is used on line " + before + " too");
      }
      // The deployment's own limits (max_tokens, n) are the pipeline's to apply, as to any producer.
      ApiShapes.Read read = ApiShapes.read(text(line, "method"), text(line, "url"), rawBody(text),
          RequestRules.Limits.NONE, tasks);
      lines.add(new Line(number, customId.textValue(), jobId(sha256, customId.textValue(), read.chat()), read));
    }
    if (lines.isEmpty()) {
      throw new CliException("the input has no lines");
    }
    return new BatchInput(sha256, List.copyOf(lines));
  }

  /** {@code cmpl-} or {@code chatcmpl-} as the API's ids, then 144 bits of the hash of the file and custom_id. */
  static String jobId(String fileSha256, String customId, boolean chat) {
    byte[] digest = sha256(("aigc-batch:" + fileSha256 + ":" + customId).getBytes(StandardCharsets.UTF_8));
    return (chat ? "chatcmpl-" : "cmpl-") + BASE64.encodeToString(Arrays.copyOf(digest, 18));
  }

  /**
   * The line's {@code body} as it is written there, not a copy parsed and written again, so that the gateway's strict
   * reader judges what the sender wrote (a key given twice, a number no double holds); empty when there is none.
   */
  static byte[] rawBody(String line) {
    try (JsonParser parser = JSON.createParser(line)) {
      parser.nextToken();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        if (name.equals("body") && value != JsonToken.VALUE_NULL) {
          int start = (int) parser.currentTokenLocation().getCharOffset();
          parser.skipChildren();
          int end = (int) parser.currentLocation().getCharOffset();
          return line.substring(start, end).getBytes(StandardCharsets.UTF_8);
        }
        parser.skipChildren();
      }
      return new byte[0];
    } catch (IOException e) {
      throw new IllegalStateException("a line parsed once parses again", e);
    }
  }

  private static String text(JsonNode line, String field) {
    JsonNode v = line.get(field);
    return v != null && v.isTextual() ? v.textValue() : null;
  }

  private static CliException invalid(int line, String problem) {
    return new CliException("input line " + line + ": " + problem + "; nothing was published");
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
