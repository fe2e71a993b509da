package io.aigc.examples.news;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A news article as the feeder reads it: one JSON object per line of a JSONL file, with {@code id}, {@code source},
 * {@code url}, {@code title}, {@code published} (ISO-8601, e.g. {@code 2008-09-10T09:00:00Z}) and {@code body}.
 */
record Article(String id, String source, String url, String title, String published, String body) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> FIELDS = List.of("id", "source", "url", "title", "published", "body");

  /** Every article of a JSONL file; blank lines are skipped, a line without a field is an error naming it. */
  static List<Article> readJsonl(Path file) throws IOException {
    List<Article> articles = new ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      JsonNode node = JSON.readTree(lines.get(i));
      List<String> values = new ArrayList<>();
      for (String field : FIELDS) {
        JsonNode v = node == null ? null : node.get(field);
        if (v == null || !v.isTextual() || v.textValue().isBlank()) {
          throw new IllegalArgumentException(file + " line " + (i + 1) + ": '" + field + "' must be a non-empty "
              + "string");
        }
        values.add(v.textValue());
      }
      articles.add(new Article(values.get(0), values.get(1), values.get(2), values.get(3), values.get(4),
          values.get(5)));
    }
    return articles;
  }
}
