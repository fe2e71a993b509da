package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a batch's input file, and a batch's state as it is stored and shown. */
class BatchInputTest {
  private static final String URL = "/v1/completions";

  @TempDir
  Path dir;

  @Test
  void linesAreReadInOrderWithTheirBodiesAsSent() throws Exception {
    BatchInput.Parsed parsed = read(line("a", URL, "{\"prompt\":\"x\",\"max_tokens\":2}"), "",
        line("b", URL, "{\"prompt\":\"y\",\"temperature\":9}"));
    assertThat(parsed.problems()).isEmpty();
    assertThat(parsed.lines()).containsExactly(
        new BatchInput.Line(0, "a", "{\"prompt\":\"x\",\"max_tokens\":2}"),
        // A body the endpoint will refuse is still a line: the endpoint judges it, not the file.
        new BatchInput.Line(1, "b", "{\"prompt\":\"y\",\"temperature\":9}"));
  }

  @Test
  void aFileThatCannotRunSaysWhyLineByLine() throws Exception {
    BatchInput.Parsed parsed = read(
        "{not json",
        "[1]",
        "{\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{}}",
        "{\"custom_id\":\"m\",\"method\":\"GET\",\"url\":\"/v1/completions\",\"body\":{}}",
        line("u", "/v1/chat/completions", "{}"),
        "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":\"text\"}",
        "{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{},\"extra\":1}",
        line("d", URL, "{}"),
        line("d", URL, "{}"));
    assertThat(parsed.lines()).isEmpty();
    assertThat(parsed.problems()).extracting(p -> p.code() + "@" + p.line()).containsExactly(
        "invalid_json_line@1", "invalid_json_line@2", "missing_required_parameter@3", "invalid_method@4",
        "mismatched_endpoint@5", "missing_required_parameter@6", "invalid_request@7", "duplicate_custom_id@9");
  }

  @Test
  void anEmptyFileCannotRun() throws Exception {
    assertThat(read("", " ").problems()).extracting(BatchInput.Problem::code).containsExactly("empty_file");
  }

  @Test
  void aBatchIsStoredWithWhatResumingNeedsAndShownInOpenAisShape() {
    Batch batch = Batch.created("batch_1", "alice", URL, "file-1", "24h", 100, 200, Map.of("k", "v"), 3600L)
        .withTotal(3).moveTo(Batch.Status.IN_PROGRESS, 101).withCounts(1, 1, 2)
        .moveTo(Batch.Status.CANCELLING, 102).moveTo(Batch.Status.CANCELLED, 103).withFiles("file-o", null);
    assertThat(Batch.fromStored(batch.toStored())).isEqualTo(batch);

    var shown = batch.toJson();
    assertThat(shown.getString("status")).isEqualTo("cancelled");
    assertThat(shown.getLong("in_progress_at")).isEqualTo(101);
    assertThat(shown.getLong("cancelling_at")).isEqualTo(102);
    assertThat(shown.getLong("cancelled_at")).isEqualTo(103);
    assertThat(shown.getValue("completed_at")).isNull();
    assertThat(shown.getJsonObject("request_counts").getMap())
        .isEqualTo(Map.of("total", 3, "completed", 1, "failed", 1));
    // What is the gateway's own is never shown.
    assertThat(shown.containsKey("aigc")).isFalse();
    assertThat(shown.fieldNames()).contains("id", "object", "endpoint", "errors", "input_file_id",
        "completion_window", "output_file_id", "error_file_id", "created_at", "expires_at", "finalizing_at",
        "completed_at", "failed_at", "expired_at", "metadata");
    // A status reached once keeps its first time.
    assertThat(batch.moveTo(Batch.Status.CANCELLED, 999).toJson().getLong("cancelled_at")).isEqualTo(103);
  }

  @Test
  void aFailedBatchShowsItsErrors() {
    Batch failed = Batch.created("batch_2", null, URL, "file-2", "24h", 1, 2, null, null)
        .withErrors(List.of(new BatchInput.Problem("empty_file", "no requests", null, null)))
        .moveTo(Batch.Status.FAILED, 1);
    assertThat(Batch.fromStored(failed.toStored())).isEqualTo(failed);
    assertThat(failed.toJson().getJsonObject("errors").getJsonArray("data").getJsonObject(0).getString("code"))
        .isEqualTo("empty_file");
  }

  private BatchInput.Parsed read(String... lines) throws Exception {
    Path file = dir.resolve("input.jsonl");
    Files.writeString(file, String.join("\n", lines), StandardCharsets.UTF_8);
    return BatchInput.read(file, URL);
  }

  private static String line(String customId, String url, String body) {
    return "{\"custom_id\":\"" + customId + "\",\"method\":\"POST\",\"url\":\"" + url + "\",\"body\":" + body + "}";
  }
}
