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
import org.junit.jupiter.params.provider.CsvSource;
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
    Refusals.assertRefused(() -> call(json), status, param, code, message);
  }

  /** Bodies refused with a 400: the parameter, code and message (a part of it) each is refused with. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
      # max tokens under either name, and both only when they agree
      {"messages":[{"role":"user","content":"Hi"}],"max_tokens":7,"max_completion_tokens":8} | max_completion_tokens | invalid_value | max_tokens is 7 and max_completion_tokens is 8
      {"messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":0} | max_completion_tokens | invalid_value | Invalid 'max_completion_tokens': expected an integer between 1 and 256, but got 0 instead.
      {"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"min_tokens":5} | min_tokens | invalid_value | at most max_tokens
      # logprobs is a boolean and top_logprobs needs it
      {"messages":[{"role":"user","content":"Hi"}],"top_logprobs":3} | top_logprobs | invalid_value | requires 'logprobs' to be true
      {"messages":[{"role":"user","content":"Hi"}],"logprobs":true,"top_logprobs":21} | top_logprobs | invalid_value | between 0 and 20
      {"messages":[{"role":"user","content":"Hi"}],"logprobs":1} | logprobs | invalid_type | expected a boolean
      # stream and its options
      {"messages":[{"role":"user","content":"Hi"}],"stream_options":{"include_usage":true}} | stream_options | invalid_value | only allowed when 'stream' is enabled
      # messages are required and not empty
      {} | messages | missing_required_parameter | Missing required parameter: 'messages'.
      {"messages":[]} | messages | invalid_value | at least one message
      {"messages":"Hi"} | messages | invalid_type | expected an array
      {"prompt":"Hi","messages":[{"role":"user","content":"Hi"}]} | prompt | unknown_parameter | Unrecognized request argument
      # each message is an object with a role and content
      {"messages":["Hi"]} | messages[0] | invalid_type | expected an object
      {"messages":[{"content":"Hi"}]} | messages[0].role | missing_required_parameter | 'messages[0].role'
      {"messages":[{"role":"user"}]} | messages[0].content | missing_required_parameter | 'messages[0].content'
      {"messages":[{"role":"user","content":null}]} | messages[0].content | missing_required_parameter | 'messages[0].content'
      {"messages":[{"role":7,"content":"Hi"}]} | messages[0].role | invalid_type | expected a string
      {"messages":[{"role":"user","content":7}]} | messages[0].content | invalid_type | expected a string or an array of content parts
      {"messages":[{"role":"user","content":"Hi","name":1}]} | messages[0].name | invalid_type | expected a string
      {"messages":[{"role":"user","content":"Hi","mood":"ok"}]} | messages[0].mood | unknown_parameter | Unrecognized request argument supplied: messages[0].mood
      # roles are the four OpenAI text roles
      {"messages":[{"role":"wizard","content":"Hi"}]} | messages[0].role | invalid_value | expected one of system, user, assistant or developer, but got 'wizard' instead.
      {"messages":[{"role":"","content":"Hi"}]} | messages[0].role | invalid_value | but got ''
      # content parts other than text are refused
      {"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]} | messages[0].content[1].type | invalid_value | only text content parts are supported by this server, but got 'image_url'.
      {"messages":[{"role":"user","content":[{"type":"text"}]}]} | messages[0].content[0].text | missing_required_parameter | 'messages[0].content[0].text'
      {"messages":[{"role":"user","content":["Hi"]}]} | messages[0].content[0] | invalid_type | expected an object
      {"messages":[{"role":"user","content":[{"type":"text","text":"a","x":1}]}]} | messages[0].content[0].x | unknown_parameter | Unrecognized request argument
      # text must be text
      {"messages":[{"role":"user","content":"a\\ud800"}]} | messages[0].content | invalid_value | unpaired UTF-16 surrogate
      # fields of /v1/completions only are unknown here
      {"messages":[{"role":"user","content":"Hi"}],"echo":false} | echo | unknown_parameter | Unrecognized request argument
      {"messages":[{"role":"user","content":"Hi"}],"suffix":""} | suffix | unknown_parameter | Unrecognized request argument
      """)
  void refusedWithTheParameterCodeAndMessage(String body, String param, String code, String message) {
    rejected(body, param, code, message);
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
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").messages(List.of(new Message("user", "Hi")))
        .metadata(Map.of("user", "u"))
        .sampling(s -> s.maxTokens(9).temperature(0).n(2).stop(List.of("\n")).seed(5L).presencePenalty(1)
            .frequencyPenalty(0.5).logitBias(Map.of(7, -100.0)).logprobs(20))
        .build());
  }

  @Test
  void maxTokensUnderEitherNameAndBothOnlyWhenTheyAgree() {
    assertThat(valid("{" + HI + ",\"max_tokens\":7}").sampling().maxTokens()).isEqualTo(7);
    assertThat(valid("{" + HI + ",\"max_completion_tokens\":7}").sampling().maxTokens()).isEqualTo(7);
    assertThat(valid("{" + HI + ",\"max_tokens\":7,\"max_completion_tokens\":7}").sampling().maxTokens())
        .isEqualTo(7);
  }

  @Test
  void logprobsIsABooleanAndTopLogprobsNeedsIt() {
    assertThat(valid("{" + HI + "}").sampling().wantsLogprobs()).isFalse();
    assertThat(valid("{" + HI + ",\"logprobs\":false}").sampling().wantsLogprobs()).isFalse();
    assertThat(valid("{" + HI + ",\"logprobs\":true}").sampling().logprobs()).isZero();
    assertThat(valid("{" + HI + ",\"logprobs\":true,\"top_logprobs\":3}").sampling().logprobs()).isEqualTo(3);
  }

  @Test
  void streamAndItsOptions() {
    assertThat(call("{" + HI + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}"))
        .extracting(GenerationCall::stream, GenerationCall::includeUsage).containsExactly(true, true);
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
  void anUnknownModelIsNotFound() {
    rejected("{" + HI + ",\"model\":\"gpt-4o\"}", 404, "model", "model_not_found", "'gpt-4o' does not exist");
  }
}
