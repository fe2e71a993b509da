package io.aigc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.gateway.ApiShapes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchOutputTest {
  @TempDir
  Path dir;

  @Test
  void answersAreOpenAiBatchLinesAndALineCutShortIsDroppedOnReopening() throws Exception {
    BatchInput input = BatchInputTest.parse(BatchInputTest.COMPLETION, BatchInputTest.CHAT);
    Path file = dir.resolve("out.jsonl");
    try (BatchOutput output = BatchOutput.open(file)) {
      output.write(input.lines().get(0), input.lines().get(0).jobId(),
          new ApiShapes.Answer(200, "{\"id\": \"x\", \"object\": \"text_completion\"}"));
    }
    // A crash in the middle of the second line.
    Files.writeString(file, "{\"custom_id\": \"b\", \"resp", StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.APPEND);

    try (BatchOutput output = BatchOutput.open(file)) {
      assertThat(output.done()).isEqualTo(Map.of("a", true));
      output.write(input.lines().get(1), null, new ApiShapes.Answer(400, "{\"error\": {\"message\": \"no\"}}"));
      assertThat(output.done()).isEqualTo(Map.of("a", true, "b", false));
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    JsonNode first = new ObjectMapper().readTree(lines.get(0));
    assertThat(first.get("id").asText()).isEqualTo("batch_req_" + input.lines().get(0).jobId().substring(5));
    assertThat(first.get("custom_id").asText()).isEqualTo("a");
    assertThat(first.get("response").get("status_code").asInt()).isEqualTo(200);
    assertThat(first.get("response").get("request_id").asText()).isEqualTo(input.lines().get(0).jobId());
    assertThat(first.get("response").get("body").get("object").asText()).isEqualTo("text_completion");
    assertThat(first.get("error").isNull()).isTrue();
    assertThat(new ObjectMapper().readTree(lines.get(1)).get("response").get("request_id").isNull()).isTrue();
  }

  @Test
  void theStateFileIsWrittenWholeAndReadBack() {
    Path state = BatchState.beside(dir.resolve("out.jsonl"));
    BatchState written = new BatchState("abc", Instant.parse("2026-12-01T02:00:00.123Z"));

    written.write(state);

    assertThat(state.getFileName().toString()).isEqualTo("out.jsonl.state");
    assertThat(BatchState.read(state)).contains(written);
    assertThat(BatchState.read(dir.resolve("none.state"))).isEmpty();
  }
}
