package io.aigc.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.schemas.Tasks;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BatchInputTest {
  static final String COMPLETION = "{\"custom_id\": \"a\", \"method\": \"POST\", \"url\": \"/v1/completions\", "
      + "\"body\": {\"prompt\": \"Hello\", \"max_tokens\": 4}}";
  static final String CHAT = "{\"custom_id\": \"b\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", "
      + "\"body\": {\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}}";

  static BatchInput parse(String... lines) {
    return BatchInput.parse(String.join("\n", lines).getBytes(StandardCharsets.UTF_8), Tasks.builtIn());
  }

  @Test
  void eachLineIsReadAsItsEndpointReadsItsBody() {
    BatchInput input = parse(COMPLETION, "", CHAT);

    assertThat(input.lines()).hasSize(2);
    BatchInput.Line completion = input.lines().get(0);
    assertThat(completion.number()).isEqualTo(1);
    assertThat(completion.read().refused()).isNull();
    assertThat(completion.read().spec().prompt()).isEqualTo("Hello");
    assertThat(completion.read().spec().sampling().maxTokens()).isEqualTo(4);
    assertThat(completion.jobId()).startsWith("cmpl-").hasSize("cmpl-".length() + 24);
    BatchInput.Line chat = input.lines().get(1);
    assertThat(chat.number()).isEqualTo(3);
    assertThat(chat.read().chat()).isTrue();
    assertThat(chat.jobId()).startsWith("chatcmpl-");
  }

  @Test
  void aLineNamingAnOperatorsTaskIsReadWithTheOperatorsTasks() {
    String line = "{\"custom_id\": \"t\", \"method\": \"POST\", \"url\": \"/v1/completions\", "
        + "\"body\": {\"task\": \"haiku\", \"task_fields\": {\"topic\": \"Kafka\"}}}";
    Tasks operators = Tasks.parse("{\"tasks\": {\"haiku\": {\"description\": \"A haiku.\", "
        + "\"template\": \"A haiku about {{ topic }}:\", \"required\": [\"topic\"]}}}", Tasks.builtIn());

    BatchInput.Line read = BatchInput.parse(line.getBytes(StandardCharsets.UTF_8), operators).lines().get(0);
    assertThat(read.read().refused()).isNull();
    assertThat(read.read().spec().task()).isEqualTo("haiku");
    // Without the operator's file the gateway would refuse the line, and so does the command line.
    assertThat(parse(line).lines().get(0).read().refused().status()).isEqualTo(400);
  }

  @Test
  void jobIdsAreTheSameForTheSameFileAndCustomIdAndDifferOtherwise() {
    String first = parse(COMPLETION, CHAT).lines().get(0).jobId();

    assertThat(parse(COMPLETION, CHAT).lines().get(0).jobId()).isEqualTo(first);
    assertThat(parse(COMPLETION).lines().get(0).jobId()).as("another file").isNotEqualTo(first);
    assertThat(parse(COMPLETION, CHAT).lines().get(1).jobId()).as("another custom_id").isNotEqualTo(first);
  }

  @Test
  void aBodyTheApiRefusesGetsTheApisErrorAndIsNotAJob() {
    BatchInput input = parse(
        "{\"custom_id\": \"t\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"x\", "
            + "\"temperature\": 3}}",
        "{\"custom_id\": \"e\", \"method\": \"POST\", \"url\": \"/v1/embeddings\", \"body\": {\"input\": \"x\"}}",
        "{\"custom_id\": \"s\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"x\", "
            + "\"stream\": true}}",
        "{\"custom_id\": \"g\", \"method\": \"GET\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"x\"}}");

    assertThat(input.lines()).allSatisfy(line -> assertThat(line.read().spec()).isNull());
    assertThat(input.lines().get(0).read().refused().status()).isEqualTo(400);
    assertThat(input.lines().get(0).read().refused().body()).contains(
        "Invalid 'temperature': expected a number between 0 and 2, but got 3 instead.");
    assertThat(input.lines().get(1).read().refused().status()).isEqualTo(404);
    assertThat(input.lines().get(2).read().refused().body()).contains("'stream' is not supported here");
    assertThat(input.lines().get(3).read().refused().status()).isEqualTo(405);
  }

  @Test
  void theBodyIsJudgedAsWrittenNotAsParsedAndWrittenAgain() {
    String body = "{\"prompt\": \"x\",  \"prompt\": \"y\", \"max_tokens\": 1e400}";
    String line = "{\"custom_id\": \"d\", \"body\": " + body + ", \"method\": \"POST\", \"url\": \"/v1/completions\"}";

    assertThat(new String(BatchInput.rawBody(line), StandardCharsets.UTF_8)).isEqualTo(body);
    assertThat(BatchInput.rawBody("{\"custom_id\": \"d\", \"body\": null}")).isEmpty();
    assertThat(parse(line).lines().get(0).read().refused().body()).as("the gateway refuses a key given twice")
        .contains("prompt");
  }

  @Test
  void aLineWithoutAUsableCustomIdMakesTheWholeFileInvalid() {
    assertThatThrownBy(() -> parse(COMPLETION, "{\"method\": \"POST\"}"))
        .isInstanceOf(CliException.class).hasMessage("input line 2: no custom_id (a non-empty string); nothing was "
            + "published");
    assertThatThrownBy(() -> parse(COMPLETION, COMPLETION)).hasMessageContaining("custom_id 'a' is used on line 1");
    assertThatThrownBy(() -> parse(COMPLETION, "{not json")).hasMessageStartingWith("input line 2: not JSON");
    assertThatThrownBy(() -> parse("", " ")).hasMessage("the input has no lines");
  }
}
