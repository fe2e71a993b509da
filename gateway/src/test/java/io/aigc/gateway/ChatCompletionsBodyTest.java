package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.RequestSpec.Message;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChatCompletionsBodyTest {
  private static final String HI = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
  private final ChatCompletionsBody chat = new ChatCompletionsBody(ServedModels.of("tiny-llama", 0),
      new RequestRules.Limits(256, 8));

  private GenerationCall call(String json) {
    return chat.read(json.getBytes(StandardCharsets.UTF_8));
  }

  private RequestSpec valid(String json) {
    return call(json).spec();
  }

  private void rejected(String json, String param, String code, String message) {
    rejected(json, 400, param, code, message);
  }

  private void rejected(String json, int status, String param, String code, String message) {
    assertThatThrownBy(() -> call(json))
        .isInstanceOfSatisfying(ApiError.class, e -> {
          assertThat(e.status()).isEqualTo(status);
          assertThat(e.type()).isEqualTo("invalid_request_error");
          assertThat(e.param()).isEqualTo(param);
          assertThat(e.code()).isEqualTo(code);
          assertThat(e.getMessage()).contains(message);
        });
  }

  @Test
  void aConversationBecomesMessagesWithAnEmptyPromptAndOpenAiDefaults() {
    RequestSpec r = valid("{\"model\":\"tiny-llama\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
        + "{\"role\":\"user\",\"content\":\"Hi\",\"name\":\"ann\"},{\"role\":\"assistant\",\"content\":\"Hello\"},"
        + "{\"role\":\"user\",\"content\":\"Again\"}]}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").messages(List.of(new Message("system", "Be brief."),
        new Message("user", "Hi"), new Message("assistant", "Hello"), new Message("user", "Again"))).build());
    assertThat(r.prompt()).isEmpty();
    assertThat(r.isChat()).isTrue();
  }

  @Test
  void developerMessagesAreSentOnAsSystemMessages() {
    assertThat(valid("{\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"}]}").messages())
        .containsExactly(new Message("system", "Be brief."));
  }

  @Test
  void textPartsAreJoinedWithNewlines() {
    assertThat(valid("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"one\"},"
        + "{\"type\":\"text\",\"text\":\"two\"}]}]}").messages()).containsExactly(new Message("user", "one\ntwo"));
  }

  @Test
  void carriesTheSharedFieldsAndTheChatOnes() {
    RequestSpec r = valid("{" + HI + ",\"max_completion_tokens\":9,\"temperature\":0,\"n\":2,\"stop\":\"\\n\","
        + "\"seed\":5,\"presence_penalty\":1,\"frequency_penalty\":0.5,\"logit_bias\":{\"7\":-100},"
        + "\"logprobs\":true,\"top_logprobs\":20,\"user\":\"u\",\"response_format\":{\"type\":\"text\"},"
        + "\"tools\":[],\"tool_choice\":\"none\",\"parallel_tool_calls\":false}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").messages(List.of(new Message("user", "Hi"))).maxTokens(9)
        .temperature(0).n(2).stop(List.of("\n")).seed(5L).penalties(1, 0.5, 1).logitBias(Map.of(7, -100.0))
        .logprobs(20).metadata(Map.of("user", "u")).build());
  }

  @Test
  void maxTokensUnderEitherNameAndBothOnlyWhenTheyAgree() {
    assertThat(valid("{" + HI + ",\"max_tokens\":7}").maxTokens()).isEqualTo(7);
    assertThat(valid("{" + HI + ",\"max_completion_tokens\":7}").maxTokens()).isEqualTo(7);
    assertThat(valid("{" + HI + ",\"max_tokens\":7,\"max_completion_tokens\":7}").maxTokens()).isEqualTo(7);
    rejected("{" + HI + ",\"max_tokens\":7,\"max_completion_tokens\":8}", "max_completion_tokens", "invalid_value",
        "max_tokens is 7 and max_completion_tokens is 8");
    rejected("{" + HI + ",\"max_completion_tokens\":0}", "max_completion_tokens", "invalid_value",
        "Invalid 'max_completion_tokens': expected an integer between 1 and 256, but got 0 instead.");
    rejected("{" + HI + ",\"max_tokens\":4,\"min_tokens\":5}", "min_tokens", "invalid_value", "at most max_tokens");
  }

  @Test
  void logprobsIsABooleanAndTopLogprobsNeedsIt() {
    assertThat(valid("{" + HI + "}").logprobs()).isNull();
    assertThat(valid("{" + HI + ",\"logprobs\":false}").logprobs()).isNull();
    assertThat(valid("{" + HI + ",\"logprobs\":true}").logprobs()).isZero();
    assertThat(valid("{" + HI + ",\"logprobs\":true,\"top_logprobs\":3}").logprobs()).isEqualTo(3);
    rejected("{" + HI + ",\"top_logprobs\":3}", "top_logprobs", "invalid_value", "requires 'logprobs' to be true");
    rejected("{" + HI + ",\"logprobs\":true,\"top_logprobs\":21}", "top_logprobs", "invalid_value",
        "between 0 and 20");
    rejected("{" + HI + ",\"logprobs\":1}", "logprobs", "invalid_type", "expected a boolean");
  }

  @Test
  void streamAndItsOptions() {
    assertThat(call("{" + HI + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}"))
        .extracting(GenerationCall::stream, GenerationCall::includeUsage).containsExactly(true, true);
    rejected("{" + HI + ",\"stream_options\":{\"include_usage\":true}}", "stream_options", "invalid_value",
        "only allowed when 'stream' is enabled");
  }

  @Test
  void messagesAreRequiredAndNotEmpty() {
    rejected("{}", "messages", "missing_required_parameter", "Missing required parameter: 'messages'.");
    rejected("{\"messages\":[]}", "messages", "invalid_value", "at least one message");
    rejected("{\"messages\":\"Hi\"}", "messages", "invalid_type", "expected an array");
    rejected("{\"prompt\":\"Hi\"," + HI + "}", "prompt", "unknown_parameter", "Unrecognized request argument");
  }

  @Test
  void eachMessageIsAnObjectWithARoleAndContent() {
    rejected("{\"messages\":[\"Hi\"]}", "messages[0]", "invalid_type", "expected an object");
    rejected("{\"messages\":[{\"content\":\"Hi\"}]}", "messages[0].role", "missing_required_parameter",
        "'messages[0].role'");
    rejected("{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content", "missing_required_parameter",
        "'messages[0].content'");
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":null}]}", "messages[0].content",
        "missing_required_parameter", "'messages[0].content'");
    rejected("{\"messages\":[{\"role\":7,\"content\":\"Hi\"}]}", "messages[0].role", "invalid_type",
        "expected a string");
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":7}]}", "messages[0].content", "invalid_type",
        "expected a string or an array of content parts");
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",\"name\":1}]}", "messages[0].name",
        "invalid_type", "expected a string");
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",\"mood\":\"ok\"}]}", "messages[0].mood",
        "unknown_parameter", "Unrecognized request argument supplied: messages[0].mood");
  }

  @Test
  void rolesAreTheFourOpenAiTextRoles() {
    rejected("{\"messages\":[{\"role\":\"wizard\",\"content\":\"Hi\"}]}", "messages[0].role", "invalid_value",
        "expected one of system, user, assistant or developer, but got 'wizard' instead.");
    rejected("{\"messages\":[{\"role\":\"\",\"content\":\"Hi\"}]}", "messages[0].role", "invalid_value",
        "but got ''");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"messages\":[{\"role\":\"tool\",\"content\":\"42\",\"tool_call_id\":\"c1\"}]}",
      "{\"messages\":[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[]}]}",
      "{" + HI + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}",
      "{" + HI + ",\"tool_choice\":\"auto\"}",
      "{" + HI + ",\"functions\":[{\"name\":\"f\"}]}",
      "{" + HI + ",\"function_call\":{\"name\":\"f\"}}",
      "{" + HI + ",\"response_format\":{\"type\":\"json_object\"}}"})
  void toolsAndStructuredOutputAreRefusedAsUnsupported(String body) {
    assertThatThrownBy(() -> call(body)).isInstanceOfSatisfying(ApiError.class, e -> {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.code()).isEqualTo("unsupported_parameter");
    });
  }

  @Test
  void contentPartsOtherThanTextAreRefused() {
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
        + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]}]}", "messages[0].content[1].type",
        "invalid_value", "only text content parts are supported by this server, but got 'image_url'.");
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}",
        "messages[0].content[0].text", "missing_required_parameter", "'messages[0].content[0].text'");
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":[\"Hi\"]}]}", "messages[0].content[0]",
        "invalid_type", "expected an object");
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\",\"x\":1}]}]}",
        "messages[0].content[0].x", "unknown_parameter", "Unrecognized request argument");
  }

  @Test
  void textMustBeText() {
    rejected("{\"messages\":[{\"role\":\"user\",\"content\":\"a\\ud800\"}]}", "messages[0].content", "invalid_value",
        "unpaired UTF-16 surrogate");
  }

  @Test
  void anUnknownModelIsNotFound() {
    rejected("{" + HI + ",\"model\":\"gpt-4o\"}", 404, "model", "model_not_found", "'gpt-4o' does not exist");
  }

  @Test
  void completionsOnlyFieldsAreUnknownHere() {
    rejected("{" + HI + ",\"echo\":false}", "echo", "unknown_parameter", "Unrecognized request argument");
    rejected("{" + HI + ",\"suffix\":\"\"}", "suffix", "unknown_parameter", "Unrecognized request argument");
  }
}
