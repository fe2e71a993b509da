package io.aigc.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.model.ModelDirectory;
import io.aigc.model.testing.TestModels;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The corpus in src/test/resources/chat-templates: real models' chat templates, conversations, and what Python's
 * jinja2 renders for each pair the way transformers does (make_expected.py there made expected.json).
 */
class ChatTemplateTest {
  private static final String CORPUS = "/chat-templates/";
  private static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest(name = "{0} / {1} / add_generation_prompt={2}")
  @MethodSource("corpus")
  void rendersEachCorpusConversationAsJinja2Does(String template, String conversation, boolean addGenerationPrompt,
      JsonNode expected) {
    ChatTemplate chatTemplate = corpusTemplate(template);
    List<ChatMessage> messages = conversation(conversation);
    if (expected.has("output")) {
      assertThat(chatTemplate.render(messages, addGenerationPrompt)).isEqualTo(expected.get("output").asText());
    } else if (expected.has("raises")) {
      assertThatThrownBy(() -> chatTemplate.render(messages, addGenerationPrompt))
          .isInstanceOfSatisfying(ChatTemplate.TemplateException.class,
              e -> assertThat(e.raisedByTemplate()).isTrue())
          .hasMessage(expected.get("raises").asText());
    } else {
      assertThatThrownBy(() -> chatTemplate.render(messages, addGenerationPrompt))
          .isInstanceOfSatisfying(ChatTemplate.TemplateException.class,
              e -> assertThat(e.raisedByTemplate()).isFalse());
    }
  }

  @Test
  void theCorpusCoversEveryFamilyTheIssueNames() {
    List<String> families = new ArrayList<>();
    TEMPLATES.forEach(t -> families.add(t.get("family").asText()));
    assertThat(String.join(" | ", families)).contains("Llama 2", "Llama 3", "Mistral", "Qwen2 / ChatML", "Gemma",
        "Phi-3");
    assertThat(EXPECTED.get("cases").size()).isEqualTo(TEMPLATES.size() * CONVERSATIONS.size() * 2);
  }

  @Test
  void theTinyLlamaChatsThroughItsOwnTemplateWithOneBos() {
    ModelDirectory model = ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA));
    assertThat(model.chatTemplate()).contains(readText("tiny-llama.jinja"));
    ChatTemplate template = ChatTemplate.forModel(model).orElseThrow();
    String prompt = template.render(List.of(new ChatMessage("system", "Be brief."),
        new ChatMessage("user", "This License"), new ChatMessage("assistant", "applies"),
        new ChatMessage("user", "to any program")), true);
    assertThat(prompt).isEqualTo(
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nThis License [/INST] applies </s>[INST] to any program [/INST]");
    try (TextTokenizer tokenizer = TextTokenizer.load(model)) {
      int[] ids = tokenizer.encodeChat(prompt);
      assertThat(ids[0]).isEqualTo(model.bosTokenId().getAsInt());
      assertThat(Arrays.stream(ids).filter(id -> id == model.bosTokenId().getAsInt()).count()).isEqualTo(1);
    }
  }

  @Test
  void aModelWithoutAChatTemplateHasNoneUnlessTheOperatorGivesOne(@TempDir Path dir) throws IOException {
    ModelDirectory gpt2 = ModelDirectory.open(TestModels.dir(TestModels.TINY_GPT2));
    assertThat(ChatTemplate.forModel(gpt2)).isEmpty();
    Path file = dir.resolve("chat.jinja");
    Files.writeString(file, "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{{ eos_token }}");
    assertThat(ChatTemplate.fromFile(file, gpt2).render(List.of(new ChatMessage("user", "hi")), true))
        .isEqualTo("user: hi\n<|endoftext|>");
  }

  @Test
  void aMessageThatLooksLikeATemplateIsNotRendered() {
    ChatTemplate template = ChatTemplate.of("{% for m in messages %}{{ m.content }}{% endfor %}", null, null);
    String content = "{{ 6 * 7 }} {% if true %}yes{% endif %} {{ raise_exception('no') }}";
    assertThat(template.render(List.of(new ChatMessage("user", content)), false)).isEqualTo(content);
  }

  @Test
  void aTemplateThatDoesNotParseIsRefusedWhenItIsGiven() {
    assertThatThrownBy(() -> ChatTemplate.of("{% for m in messages %}{{ m.content }}", "<s>", "</s>"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not parse");
  }

  @Test
  void aStrayEndTagIsRefusedAsJinja2RefusesIt() {
    assertThatThrownBy(() -> ChatTemplate.of("{{ bos_token }}{% endif %}", "<s>", "</s>"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void raiseExceptionStopsTheRenderWithTheTemplatesMessage() {
    ChatTemplate template = ChatTemplate.of(
        "{% if messages[0]['role'] != 'user' %}{{ raise_exception('First message must be from the user, not '"
            + " + messages[0]['role']) }}{% endif %}ok", null, null);
    assertThat(template.render(List.of(new ChatMessage("user", "hi")), true)).isEqualTo("ok");
    assertThatThrownBy(() -> template.render(List.of(new ChatMessage("assistant", "hi")), true))
        .isInstanceOfSatisfying(ChatTemplate.TemplateException.class, e -> assertThat(e.raisedByTemplate()).isTrue())
        .hasMessage("First message must be from the user, not assistant");
  }

  @Test
  void rendersTheSameFromManyThreadsAtOnce() throws Exception {
    ChatTemplate template = corpusTemplate("llama-3.2-instruct");
    List<ChatMessage> messages = conversation("system-multi-turn");
    String expected = template.render(messages, true);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        results.add(pool.submit(() -> template.render(messages, true).equals(expected)));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void expressionsEvaluateAndPrintAsInPython() {
    // What jinja2 prints for the same template: True|y|z|False|True|True|t|True|xy
    ChatTemplate template = ChatTemplate.of("{{ true }}|{{ 'x' and 'y' }}|{{ '' or 'z' }}|{{ '' == false }}"
        + "|{{ 1 == 1.0 }}|{{ true == 1 }}|{% if 'false' %}t{% endif %}|{{ not 'a' == 'b' }}"
        + "|{{ '  x '.strip() ~ '\u3000y\u3000' | trim }}", null, null);
    assertThat(template.render(List.of(), false)).isEqualTo("True|y|z|False|True|True|t|True|xy");
  }

  @Test
  void strftimeNowReadsTheClock() {
    ChatTemplate template = ChatTemplate.of("{{ strftime_now('%d %b %Y, %H:%M') }}", null, null,
        Clock.fixed(LocalDateTime.parse("2024-12-25T08:30:00").toInstant(ZoneOffset.UTC), ZoneOffset.UTC));
    assertThat(template.render(List.of(), false)).isEqualTo("25 Dec 2024, 08:30");
  }

  @Test
  void tojsonWritesAsPythonsJsonDumps() {
    ChatTemplate template = ChatTemplate.of(
        // Jinjava ends an expression at the first }}, so a nested dict literal is closed with a space: } }.
        "{{ {'a': [1, 2.5, none, true], 'é': 'x\"\\n'} | tojson }}|"
            + "{% set d = {'k': {'n': 1} } %}{{ d | tojson(indent=2) }}",
        null, null);
    assertThat(template.render(List.of(), false))
        .isEqualTo("{\"a\": [1, 2.5, null, true], \"é\": \"x\\\"\\n\"}|{\n  \"k\": {\n    \"n\": 1\n  }\n}");
  }

  private static final List<JsonNode> TEMPLATES = new ArrayList<>();
  private static final Map<String, JsonNode> CONVERSATIONS = new HashMap<>();
  private static final JsonNode EXPECTED;
  private static final Map<String, ChatTemplate> COMPILED = new HashMap<>();

  static {
    readJson("templates.json").forEach(TEMPLATES::add);
    readJson("conversations.json").forEach(c -> CONVERSATIONS.put(c.get("name").asText(), c.get("messages")));
    EXPECTED = readJson("expected.json");
  }

  static Stream<Arguments> corpus() {
    List<Arguments> cases = new ArrayList<>();
    EXPECTED.get("cases").forEach(c -> cases.add(Arguments.of(c.get("template").asText(),
        c.get("conversation").asText(), c.get("add_generation_prompt").asBoolean(), c)));
    return cases.stream();
  }

  private static synchronized ChatTemplate corpusTemplate(String name) {
    return COMPILED.computeIfAbsent(name, n -> {
      JsonNode spec = TEMPLATES.stream().filter(t -> t.get("name").asText().equals(n)).findFirst().orElseThrow();
      Clock now = Clock.fixed(LocalDateTime.parse(EXPECTED.get("now").asText()).toInstant(ZoneOffset.UTC),
          ZoneOffset.UTC);
      return ChatTemplate.of(readText(n + ".jinja"), token(spec, "bos_token"), token(spec, "eos_token"), now);
    });
  }

  private static String token(JsonNode spec, String key) {
    return spec.get(key).isNull() ? null : spec.get(key).asText();
  }

  private static List<ChatMessage> conversation(String name) {
    List<ChatMessage> messages = new ArrayList<>();
    CONVERSATIONS.get(name).forEach(m -> messages.add(new ChatMessage(m.get("role").asText(),
        m.get("content").asText())));
    return messages;
  }

  private static JsonNode readJson(String file) {
    try {
      return JSON.readTree(readText(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readText(String file) {
    try (InputStream in = ChatTemplateTest.class.getResourceAsStream(CORPUS + file)) {
      if (in == null) {
        throw new IllegalStateException("no " + CORPUS + file + " on the test class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
