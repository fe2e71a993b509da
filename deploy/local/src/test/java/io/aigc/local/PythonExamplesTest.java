package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.schemas.Topic;
import io.aigc.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Python examples ({@code examples/python}) against the real pipeline: Debian's python3-confluent-kafka and
 * python3-avro, the schemas' files and none of the project's code. A request the Python producer publishes straight to
 * Kafka is generated, and the Python consumer prints its streamed text and a completion equal to it.
 */
class PythonExamplesTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration TIMEOUT = Duration.ofSeconds(120);
  @RegisterExtension
  static final PerClass<TestPipeline> pipeline = TestPipeline.perClass(() -> {
    Commands.requireClients();
    return Map.of();
  });

  static Commands.Result python(String... args) {
    List<String> command = new ArrayList<>(List.of(Commands.PYTHON));
    command.addAll(List.of(args));
    Commands.Result result = Commands.run(command, pipeline.get().clientEnv(), TIMEOUT);
    assertThat(result.exit()).as("%s", result).isZero();
    return result;
  }

  @Test
  void aPromptPublishedFromPythonIsStreamedAndCompletedWithTheSameText() throws Exception {
    String id = python("examples/python/produce.py", "--prompt", "This License applies to any program",
        "--max-tokens", "24", "--temperature", "0", "--metadata", "article_id=a-42").out().strip();

    Commands.Result consumed = python("examples/python/consume.py", id);

    // The text as it grew, a line break, then the completion as the last line.
    String out = consumed.out();
    int lastLine = out.lastIndexOf('\n', out.length() - 2);
    JsonNode completion = JSON.readTree(out.substring(lastLine + 1));
    String streamed = out.substring(0, lastLine);
    assertThat(completion.get("request_id").asText()).isEqualTo(id);
    assertThat(completion.get("status").asText()).as("%s", consumed).isEqualTo("OK");
    assertThat(completion.at("/metadata/article_id").asText()).isEqualTo("a-42");
    assertThat(completion.at("/choices/0/text").asText()).isNotEmpty().isEqualTo(streamed);
    assertThat(consumed.err()).isEmpty();
  }

  @Test
  void aChatWithTwoChoicesStreamsEachChoiceInSequenceAndTheJoinedPiecesAreItsCompletion() throws Exception {
    String id = python("examples/python/produce.py", "--messages",
        "[{\"role\": \"user\", \"content\": \"May I copy the Program?\"}]", "-n", "2", "--temperature", "0.9",
        "--seed", "1", "--max-tokens", "12", "--logprobs", "1").out().strip();

    List<JsonNode> lines = new ArrayList<>();
    for (String line : python("examples/python/consume.py", id, "--json").out().strip().split("\n")) {
      lines.add(JSON.readTree(line));
    }

    JsonNode completion = lines.remove(lines.size() - 1);
    assertThat(completion.get("status").asText()).isEqualTo("OK");
    assertThat(completion.get("choices")).hasSize(2);
    Map<Integer, StringBuilder> texts = new TreeMap<>();
    Map<Integer, Integer> sequences = new TreeMap<>();
    for (JsonNode event : lines) {
      int choice = event.get("choice").asInt();
      assertThat(event.get("sequence").asInt()).as("choice %d's sequence", choice)
          .isEqualTo(sequences.merge(choice, 1, Integer::sum) - 1);
      texts.computeIfAbsent(choice, c -> new StringBuilder()).append(event.get("text").asText());
    }
    for (JsonNode choice : completion.get("choices")) {
      assertThat(texts.get(choice.get("index").asInt())).as("choice %s", choice.get("index"))
          .hasToString(choice.get("text").asText());
      if (!choice.get("text").asText().isEmpty()) {
        assertThat(choice.get("logprobs")).as("choice %s's logprobs", choice.get("index")).isNotEmpty();
      }
    }
  }

  @Test
  void aNamedTaskPublishedFromPythonIsCompletedAndItsCompletionNamesIt() throws Exception {
    String id = python("examples/python/produce.py", "--task", "news-summary", "--field", "title=Seed vault opens",
        "--field", "body=This License applies to any program", "--max-tokens", "12", "--metadata",
        "article_id=a-7").out().strip();

    String out = python("examples/python/consume.py", id).out();
    JsonNode completion = JSON.readTree(out.substring(out.lastIndexOf('\n', out.length() - 2) + 1));
    assertThat(completion.get("status").asText()).as("%s", out).isEqualTo("OK");
    assertThat(completion.get("task").asText()).isEqualTo("news-summary");
    assertThat(completion.at("/metadata/article_id").asText()).isEqualTo("a-7");
    assertThat(completion.at("/usage/completion_tokens").asInt()).isBetween(8, 12); // the task's min_tokens
  }

  @Test
  void pythonFingerprintsEveryReleasedSchemaAsJavaDoes() {
    List<String> java = new ArrayList<>();
    for (Topic<?> topic : Topics.defaults().all(List.of("tiny-llama"))) {
      List<Schema> versions = topic.valueSerde().writerSchemas();
      for (int v = 0; v < versions.size(); v++) {
        java.add(String.format("%s v%d %016x", topic.valueSerde().type().getSimpleName(), v + 1,
            SchemaNormalization.parsingFingerprint64(versions.get(v))));
      }
    }

    List<String> python = List.of(python("examples/python/aigc_avro.py").out().strip().split("\n"));

    assertThat(python).containsExactlyInAnyOrderElementsOf(java);
  }
}
