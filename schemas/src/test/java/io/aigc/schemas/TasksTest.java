package io.aigc.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TasksTest {

  @Test
  void theBuiltInTasksAreTheSeedsContentKinds() {
    Tasks tasks = Tasks.builtIn();

    assertThat(tasks.all()).extracting(Tasks.Task::name)
        .containsExactly("news-summary", "ad-copy", "email-reply", "lesson-outline");
    Tasks.Task news = tasks.get(Tasks.NEWS_SUMMARY).orElseThrow();
    assertThat(news.required()).containsExactly("title", "body");
    assertThat(news.optional()).containsExactly("source", "published");
    assertThat(news.template()).contains("{{ title }}", "{{ body }}");
  }

  @Test
  void anUnknownTaskAMissingFieldAndAStrangerAreNamed() {
    Tasks tasks = Tasks.builtIn();

    assertThat(tasks.check("news-summary", Map.of("title", "T", "body", "B", "source", "S"))).isEmpty();
    assertThat(tasks.check("poem", Map.of()).orElseThrow().message())
        .isEqualTo("Invalid 'task': there is no task 'poem'; this deployment has news-summary, ad-copy, email-reply,"
            + " lesson-outline.");
    RequestRules.Violation missing = tasks.check("news-summary", Map.of("title", "T")).orElseThrow();
    assertThat(missing.param()).isEqualTo("task_fields");
    assertThat(missing.message()).isEqualTo("Invalid 'task_fields': the task 'news-summary' requires the field "
        + "'body'.");
    assertThat(tasks.check("news-summary", Map.of("title", "T", "body", "")).orElseThrow().message())
        .endsWith("requires the field 'body', and it is empty.");
    assertThat(tasks.check("news-summary", Map.of("title", "T", "body", "B", "author", "A")).orElseThrow().message())
        .isEqualTo("Invalid 'task_fields': the task 'news-summary' has no field 'author'; its fields are title, body,"
            + " source, published.");
  }

  @Test
  void aTaskDefaultReplacesOnlyAParameterLeftAtTheContractDefault() {
    Tasks.Task news = Tasks.builtIn().get(Tasks.NEWS_SUMMARY).orElseThrow();

    GenerationParams untouched = news.applyDefaults(GenerationParams.newBuilder().build());
    assertThat(untouched.getMaxTokens()).isEqualTo(96);
    assertThat(untouched.getTemperature()).isEqualTo(0.3);
    assertThat(untouched.getMinTokens()).isEqualTo(8);
    assertThat(untouched.getTopP()).isEqualTo(1.0);

    GenerationParams set = news.applyDefaults(GenerationParams.newBuilder().setMaxTokens(20).setTemperature(0)
        .setMinTokens(2).build());
    assertThat(set.getMaxTokens()).isEqualTo(20);
    assertThat(set.getTemperature()).isEqualTo(0.0);
    assertThat(set.getMinTokens()).isEqualTo(2);
    // A default min_tokens above the request's max_tokens is brought down to it.
    assertThat(news.applyDefaults(GenerationParams.newBuilder().setMaxTokens(5).build()).getMinTokens()).isEqualTo(5);
    // Applying twice changes nothing more: the gateway and the tokenizer may both apply them.
    assertThat(news.applyDefaults(untouched)).isEqualTo(untouched);
  }

  @Test
  void theOperatorsFileAddsReplacesAndRemovesTasks(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tasks.json");
    Files.writeString(file, """
        {"tasks": {
          "headline": {"template": "Headline for: {{ body }}", "required": ["body"], "defaults": {"max_tokens": 12}},
          "news-summary": {"template": "TL;DR {{ body }}", "required": ["body"]},
          "ad-copy": null
        }}
        """);

    Tasks tasks = Tasks.load(file);

    assertThat(tasks.all()).extracting(Tasks.Task::name)
        .containsExactly("news-summary", "email-reply", "lesson-outline", "headline");
    assertThat(tasks.get("news-summary").orElseThrow().template()).isEqualTo("TL;DR {{ body }}");
    assertThat(tasks.get("news-summary").orElseThrow().defaults()).isEmpty();
    assertThat(tasks.get("headline").orElseThrow().defaults()).containsEntry("max_tokens", 12);
    assertThat(Tasks.load(null).all()).hasSize(4);
  }

  @Test
  void aBrokenTasksFileStopsTheServiceWithItsReason(@TempDir Path dir) throws IOException {
    assertThat(problem(dir, "[]")).contains("must be an object with one member, \"tasks\"");
    assertThat(problem(dir, "{\"tasks\": {\"x\": {\"required\": [\"a\"]}}}")).contains("task 'x' needs a \"template\"");
    assertThat(problem(dir, "{\"tasks\": {\"x\": {\"template\": \"t\"}}}")).contains("at least one required field");
    assertThat(problem(dir, "{\"tasks\": {\"x\": {\"template\": \"t\", \"required\": [\"a b\"]}}}"))
        .contains("not a field name");
    assertThat(problem(dir, "{\"tasks\": {\"x\": {\"template\": \"t\", \"required\": [\"a\"], \"prompt\": 1}}}"))
        .contains("unknown member 'prompt'");
    assertThat(problem(dir, "{\"tasks\": {\"x\": {\"template\": \"t\", \"required\": [\"a\"],"
        + " \"defaults\": {\"temperature\": 3}}}}"))
        .contains("Invalid 'temperature': expected a number between 0 and 2, but got 3.0 instead.");
    assertThat(problem(dir, "{\"tasks\": {\"x\": {\"template\": \"t\", \"required\": [\"a\"],"
        + " \"defaults\": {\"n\": 3}}}}"))
        .contains("'n', which a task cannot set");
    assertThat(problem(dir, "{\"tasks\": {\"X Y\": {}}}")).contains("the task name 'X Y'");
    assertThatThrownBy(() -> Tasks.load(dir.resolve("missing.json")))
        .hasMessageContaining("AIGC_TASKS_FILE").hasMessageContaining("cannot be read");
  }

  @Test
  void aTaskRequestHasNoPromptAndTravelsInTheEvent() {
    RequestSpec spec = RequestSpec.builder().task("news-summary", Map.of("title", "T", "body", "B")).build();
    GenerationRequest event = spec.toEvent("r1", Instant.EPOCH, null);

    assertThat(event.getTask()).isEqualTo("news-summary");
    assertThat(event.getTaskFields()).containsEntry("body", "B");
    assertThat(RequestRules.check("r1", event, RequestRules.Limits.NONE)).isEmpty();
    assertThat(spec.toString()).doesNotContain("B").contains("task=news-summary");

    event.setPrompt("also a prompt");
    assertThat(RequestRules.check("r1", event, RequestRules.Limits.NONE)).extracting(RequestRules.Violation::param)
        .containsExactly("prompt");
    GenerationRequest fieldsAlone = RequestSpec.builder().prompt("p").build().toEvent("r2", Instant.EPOCH, null);
    fieldsAlone.setTaskFields(Map.of("body", "B"));
    assertThat(RequestRules.check("r2", fieldsAlone, RequestRules.Limits.NONE))
        .extracting(RequestRules.Violation::param).containsExactly("task_fields");
  }

  private static String problem(Path dir, String json) throws IOException {
    Path file = dir.resolve("broken.json");
    Files.writeString(file, json);
    try {
      Tasks.load(file);
      throw new AssertionError("accepted " + json);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }
}
