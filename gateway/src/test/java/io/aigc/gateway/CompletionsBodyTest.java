package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Tasks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CompletionsBodyTest {
  private static final int LIMIT = 256;
  private final CompletionsBody completions = new CompletionsBody(ServedModels.of("tiny-llama", 0),
      new RequestRules.Limits(LIMIT, 8), Tasks.builtIn());

  private RequestSpec valid(String json) {
    return call(json).spec();
  }

  private GenerationCall call(String json) {
    return completions.read(json.getBytes(StandardCharsets.UTF_8));
  }

  private void rejected(String json, String param, String code, String message) {
    rejected(json.getBytes(StandardCharsets.UTF_8), 400, param, code, message);
  }

  private void rejected(byte[] body, String param, String code, String message) {
    rejected(body, 400, param, code, message);
  }

  private void rejected(byte[] body, int status, String param, String code, String message) {
    assertThatThrownBy(() -> completions.read(body))
        .isInstanceOfSatisfying(ApiError.class, e -> {
          assertThat(e.status()).isEqualTo(status);
          assertThat(e.type()).isEqualTo("invalid_request_error");
          assertThat(e.param()).isEqualTo(param);
          assertThat(e.code()).isEqualTo(code);
          assertThat(e.getMessage()).contains(message);
        });
  }

  @Test
  void aNamedTaskTakesItsFieldsInsteadOfAPrompt() {
    RequestSpec r = valid("{\"task\":\"news-summary\",\"task_fields\":{\"title\":\"T\",\"body\":\"B\"},"
        + "\"metadata\":{\"article_id\":\"42\"},\"temperature\":0}");
    assertThat(r).isEqualTo(RequestSpec.builder().task("news-summary", Map.of("title", "T", "body", "B"))
        .temperature(0).metadata(Map.of("article_id", "42")).model("tiny-llama").build());
    assertThat(r.prompt()).isEmpty();
  }

  @Test
  void aTaskRequestIsCheckedAgainstTheDeploymentsTasks() {
    rejected("{\"task\":\"poem\",\"task_fields\":{\"topic\":\"x\"}}", "task", "invalid_value",
        "Invalid 'task': there is no task 'poem'; this deployment has news-summary, ad-copy, email-reply, "
            + "lesson-outline.");
    rejected("{\"task\":\"news-summary\",\"task_fields\":{\"title\":\"T\"}}", "task_fields", "invalid_value",
        "the task 'news-summary' requires the field 'body'.");
    rejected("{\"task\":\"news-summary\"}", "task_fields", "invalid_value", "requires the field 'title'");
    rejected("{\"task\":\"news-summary\",\"task_fields\":{\"title\":\"T\",\"body\":\"B\",\"x\":\"1\"}}",
        "task_fields", "invalid_value", "has no field 'x'");
    rejected("{\"task\":\"news-summary\",\"task_fields\":{\"title\":1}}", "task_fields", "invalid_type",
        "Invalid type for 'task_fields.title': expected a string, but got an integer instead.");
    rejected("{\"task\":\"news-summary\",\"task_fields\":[]}", "task_fields", "invalid_type", "an object");
    rejected("{\"task\":7}", "task", "invalid_type", "Invalid type for 'task'");
    rejected("{\"task\":\"news-summary\",\"prompt\":\"p\",\"task_fields\":{\"title\":\"T\",\"body\":\"B\"}}",
        "prompt", "invalid_value", "not allowed with 'task'");
    rejected("{\"prompt\":\"p\",\"task_fields\":{\"body\":\"B\"}}", "task_fields", "invalid_value",
        "only with a 'task'");
  }

  @Test
  void fillsOpenAiDefaults() {
    RequestSpec r = valid("{\"prompt\":\"Hello\"}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").prompt("Hello").maxTokens(16).temperature(1.0).topP(1.0).topK(0).n(1)
        .build());
  }

  @Test
  void carriesEveryAcceptedField() {
    RequestSpec r = valid("{\"model\":\"tiny-llama\",\"prompt\":\"Hi\",\"max_tokens\":32,\"temperature\":0.7,"
        + "\"top_p\":0.9,\"top_k\":40,\"n\":2,\"stop\":[\"\\n\",\"END\"],\"seed\":-7,\"ignore_eos\":true,\"stream\":false,"
        + "\"user\":\"u-1\",\"metadata\":{\"article\":\"42\"},\"timeout_seconds\":2.5}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").prompt("Hi").maxTokens(32).temperature(0.7).topP(0.9).topK(40).n(2)
        .stop(List.of("\n", "END")).seed(-7L).ignoreEos(true).metadata(Map.of("article", "42", "user", "u-1"))
        .timeout(Duration.ofMillis(2500)).build());
  }

  @Test
  void nullMeansAbsent() {
    RequestSpec r = valid("{\"prompt\":\"Hi\",\"model\":null,\"max_tokens\":null,\"temperature\":null,"
        + "\"top_p\":null,\"top_k\":null,\"n\":null,\"stop\":null,\"seed\":null,\"stream\":null,\"user\":null,"
        + "\"metadata\":null,\"timeout_seconds\":null,\"echo\":null,\"logprobs\":null,\"best_of\":null,"
        + "\"presence_penalty\":null,\"frequency_penalty\":null,\"logit_bias\":null,\"suffix\":null,"
        + "\"repetition_penalty\":null,\"min_p\":null,\"min_tokens\":null,\"stream_options\":null}");
    assertThat(r).isEqualTo(valid("{\"prompt\":\"Hi\"}"));
  }

  @Test
  void malformedJson() {
    rejected("{\"prompt\": \"Hi\"", null, "invalid_json", "not valid JSON");
  }

  @Test
  void trailingContentAfterTheObject() {
    rejected("{\"prompt\":\"Hi\"} {}", null, "invalid_json", "not valid JSON");
  }

  @Test
  void duplicateKeys() {
    rejected("{\"prompt\":\"a\",\"prompt\":\"b\"}", null, "invalid_json", "Duplicate field 'prompt'");
  }

  @Test
  void emptyBody() {
    rejected(new byte[0], null, "invalid_json", "empty");
    rejected("  ", null, "invalid_json", "empty");
  }

  @ParameterizedTest
  @ValueSource(strings = {"[]", "\"prompt\"", "42", "null", "true"})
  void bodyNotAnObject(String body) {
    rejected(body, null, "invalid_type", "must be a JSON object");
  }

  @Test
  void unknownFieldUsesOpenAiWording() {
    rejected("{\"prompt\":\"Hi\",\"foo\":1}", "foo", "unknown_parameter", "Unrecognized request argument supplied: foo");
  }

  @Test
  void missingPrompt() {
    rejected("{\"max_tokens\":5}", "prompt", "missing_required_parameter", "Missing required parameter: 'prompt'");
    rejected("{\"prompt\":null}", "prompt", "missing_required_parameter", "'prompt'");
  }

  @Test
  void promptNotAString() {
    rejected("{\"prompt\":42}", "prompt", "invalid_type", "expected a string, but got an integer");
    rejected("{\"prompt\":{\"text\":\"Hi\"}}", "prompt", "invalid_type", "but got an object");
    rejected("{\"prompt\":[7]}", "prompt", "invalid_type", "but got an integer");
  }

  @Test
  void promptArrayOfExactlyOneString() {
    assertThat(valid("{\"prompt\":[\"Hi\"]}").prompt()).isEqualTo("Hi");
    rejected("{\"prompt\":[\"a\",\"b\"]}", "prompt", "invalid_value", "only one prompt per request");
    rejected("{\"prompt\":[]}", "prompt", "invalid_value", "got an array of 0");
  }

  @Test
  void emptyPrompt() {
    rejected("{\"prompt\":\"\"}", "prompt", "invalid_value", "must not be empty");
    rejected("{\"prompt\":[\"\"]}", "prompt", "invalid_value", "must not be empty");
  }

  @Test
  void maxTokensWrongType() {
    rejected("{\"prompt\":\"Hi\",\"max_tokens\":\"ten\"}", "max_tokens", "invalid_type",
        "Invalid type for 'max_tokens': expected an integer, but got a string instead.");
    rejected("{\"prompt\":\"Hi\",\"max_tokens\":1.5}", "max_tokens", "invalid_type", "but got a decimal number");
    rejected("{\"prompt\":\"Hi\",\"max_tokens\":16.0}", "max_tokens", "invalid_type", "but got a decimal number");
  }

  @Test
  void maxTokensRange() {
    rejected("{\"prompt\":\"Hi\",\"max_tokens\":0}", "max_tokens", "invalid_value", "between 1 and 256");
    rejected("{\"prompt\":\"Hi\",\"max_tokens\":257}", "max_tokens", "invalid_value", "but got 257");
    rejected("{\"prompt\":\"Hi\",\"max_tokens\":100000000000000000000}", "max_tokens", "invalid_value", "32-bit");
    assertThat(valid("{\"prompt\":\"Hi\",\"max_tokens\":1}").maxTokens()).isEqualTo(1);
    assertThat(valid("{\"prompt\":\"Hi\",\"max_tokens\":256}").maxTokens()).isEqualTo(LIMIT);
  }

  @Test
  void defaultMaxTokensNeverExceedsTheLimit() {
    CompletionsBody small = new CompletionsBody(ServedModels.of("m", 0), new RequestRules.Limits(8, 8),
        Tasks.builtIn());
    assertThat(small.read("{\"prompt\":\"Hi\"}".getBytes(StandardCharsets.UTF_8)).spec().maxTokens()).isEqualTo(8);
  }

  @Test
  void temperatureWrongType() {
    rejected("{\"prompt\":\"Hi\",\"temperature\":\"hot\"}", "temperature", "invalid_type",
        "Invalid type for 'temperature': expected a number, but got a string instead.");
  }

  @Test
  void temperatureRange() {
    rejected("{\"prompt\":\"Hi\",\"temperature\":-0.1}", "temperature", "invalid_value", "between 0 and 2");
    rejected("{\"prompt\":\"Hi\",\"temperature\":2.01}", "temperature", "invalid_value", "between 0 and 2");
    assertThat(valid("{\"prompt\":\"Hi\",\"temperature\":0}").temperature()).isZero();
    assertThat(valid("{\"prompt\":\"Hi\",\"temperature\":2}").temperature()).isEqualTo(2.0);
  }

  @Test
  void topPRange() {
    rejected("{\"prompt\":\"Hi\",\"top_p\":0}", "top_p", "invalid_value", "greater than 0 and at most 1");
    rejected("{\"prompt\":\"Hi\",\"top_p\":1.5}", "top_p", "invalid_value", "greater than 0 and at most 1");
    rejected("{\"prompt\":\"Hi\",\"top_p\":\"all\"}", "top_p", "invalid_type", "expected a number");
    assertThat(valid("{\"prompt\":\"Hi\",\"top_p\":1}").topP()).isEqualTo(1.0);
    assertThat(valid("{\"prompt\":\"Hi\",\"top_p\":0.01}").topP()).isEqualTo(0.01);
  }

  @Test
  void topKAtLeastZero() {
    rejected("{\"prompt\":\"Hi\",\"top_k\":-1}", "top_k", "invalid_value", "at least 0");
    rejected("{\"prompt\":\"Hi\",\"top_k\":true}", "top_k", "invalid_type", "but got a boolean");
    assertThat(valid("{\"prompt\":\"Hi\",\"top_k\":0}").topK()).isZero();
    assertThat(valid("{\"prompt\":\"Hi\",\"top_k\":50}").topK()).isEqualTo(50);
  }

  @Test
  void nRange() {
    rejected("{\"prompt\":\"Hi\",\"n\":0}", "n", "invalid_value", "between 1 and 8");
    rejected("{\"prompt\":\"Hi\",\"n\":9}", "n", "invalid_value", "between 1 and 8");
    rejected("{\"prompt\":\"Hi\",\"n\":2.0}", "n", "invalid_type", "expected an integer");
    assertThat(valid("{\"prompt\":\"Hi\",\"n\":8}").n()).isEqualTo(8);
  }

  @Test
  void stopAsOneString() {
    assertThat(valid("{\"prompt\":\"Hi\",\"stop\":\"\\n\"}").stop()).containsExactly("\n");
  }

  @Test
  void stopNotStringOrArray() {
    rejected("{\"prompt\":\"Hi\",\"stop\":5}", "stop", "invalid_type", "expected a string or an array of strings");
    rejected("{\"prompt\":\"Hi\",\"stop\":[\"a\",5]}", "stop", "invalid_type", "expected strings");
  }

  @Test
  void stopAtMostFourNonEmptyStrings() {
    assertThat(valid("{\"prompt\":\"Hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\"]}").stop()).hasSize(4);
    rejected("{\"prompt\":\"Hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop", "invalid_value", "at most 4");
    rejected("{\"prompt\":\"Hi\",\"stop\":\"\"}", "stop", "invalid_value", "must not be empty");
    rejected("{\"prompt\":\"Hi\",\"stop\":[\"a\",\"\"]}", "stop", "invalid_value", "must not be empty");
  }

  @Test
  void seedIsA64BitInteger() {
    assertThat(valid("{\"prompt\":\"Hi\",\"seed\":9223372036854775807}").seed()).isEqualTo(Long.MAX_VALUE);
    rejected("{\"prompt\":\"Hi\",\"seed\":1.5}", "seed", "invalid_type", "expected an integer");
    rejected("{\"prompt\":\"Hi\",\"seed\":\"7\"}", "seed", "invalid_type", "expected an integer");
    rejected("{\"prompt\":\"Hi\",\"seed\":9223372036854775808}", "seed", "invalid_value", "64-bit");
  }

  @Test
  void anUnknownModelIsNotFoundAsOpenAiAnswersIt() {
    assertThat(valid("{\"prompt\":\"Hi\",\"model\":\"tiny-llama\"}").prompt()).isEqualTo("Hi");
    rejected("{\"prompt\":\"Hi\",\"model\":\"gpt-4\"}".getBytes(StandardCharsets.UTF_8), 404, "model",
        "model_not_found", "'gpt-4' does not exist");
    rejected("{\"prompt\":\"Hi\",\"model\":7}", "model", "invalid_type", "expected a string");
  }

  @Test
  void streamIsABooleanAndItsOptionsComeOnlyWithIt() {
    assertThat(call("{\"prompt\":\"Hi\"}")).isEqualTo(new GenerationCall(valid("{\"prompt\":\"Hi\"}"), false,
        false));
    assertThat(call("{\"prompt\":\"Hi\",\"stream\":true}").stream()).isTrue();
    assertThat(call("{\"prompt\":\"Hi\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}"))
        .extracting(GenerationCall::stream, GenerationCall::includeUsage).containsExactly(true, true);
    assertThat(call("{\"prompt\":\"Hi\",\"stream\":true,\"stream_options\":{}}").includeUsage()).isFalse();
    assertThat(call("{\"prompt\":\"Hi\",\"stream\":false}").stream()).isFalse();
    rejected("{\"prompt\":\"Hi\",\"stream\":\"no\"}", "stream", "invalid_type", "expected a boolean");
    rejected("{\"prompt\":\"Hi\",\"stream_options\":{\"include_usage\":true}}", "stream_options",
        "invalid_value", "only allowed when 'stream' is enabled");
    rejected("{\"prompt\":\"Hi\",\"stream\":true,\"stream_options\":true}", "stream_options", "invalid_type",
        "expected an object");
    rejected("{\"prompt\":\"Hi\",\"stream\":true,\"stream_options\":{\"include_usage\":1}}",
        "stream_options.include_usage", "invalid_type", "expected a boolean");
    rejected("{\"prompt\":\"Hi\",\"stream\":true,\"stream_options\":{\"x\":true}}", "stream_options.x",
        "unknown_parameter", "Unrecognized request argument supplied: stream_options.x");
  }

  @Test
  void penaltiesAndTheVllmSamplingExtensionsAreCarried() {
    RequestSpec r = valid("{\"prompt\":\"Hi\",\"max_tokens\":8,\"presence_penalty\":0.5,"
        + "\"frequency_penalty\":-1.5,\"repetition_penalty\":1.2,\"min_p\":0.05,\"min_tokens\":3}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").prompt("Hi").maxTokens(8).penalties(0.5, -1.5, 1.2).minP(0.05)
        .minTokens(3).build());
  }

  @Test
  void penaltiesAndExtensionsOutOfRange() {
    rejected("{\"prompt\":\"Hi\",\"presence_penalty\":2.5}", "presence_penalty", "invalid_value",
        "Invalid 'presence_penalty': expected a number between -2 and 2, but got 2.5 instead.");
    rejected("{\"prompt\":\"Hi\",\"frequency_penalty\":-3}", "frequency_penalty", "invalid_value",
        "between -2 and 2");
    rejected("{\"prompt\":\"Hi\",\"repetition_penalty\":0}", "repetition_penalty", "invalid_value",
        "greater than 0");
    rejected("{\"prompt\":\"Hi\",\"min_p\":1.5}", "min_p", "invalid_value", "between 0 and 1");
    rejected("{\"prompt\":\"Hi\",\"min_tokens\":-1}", "min_tokens", "invalid_value", "at least 0");
    rejected("{\"prompt\":\"Hi\",\"max_tokens\":4,\"min_tokens\":5}", "min_tokens", "invalid_value",
        "must be at most max_tokens (4)");
    rejected("{\"prompt\":\"Hi\",\"min_tokens\":1.5}", "min_tokens", "invalid_type", "expected an integer");
  }

  @Test
  void logitBiasMapsTokenIdsToBiases() {
    assertThat(valid("{\"prompt\":\"Hi\",\"logit_bias\":{\"50256\":-100,\"0\":2.5}}").logitBias())
        .isEqualTo(Map.of(50256, -100.0, 0, 2.5));
    assertThat(valid("{\"prompt\":\"Hi\",\"logit_bias\":{}}")).isEqualTo(valid("{\"prompt\":\"Hi\"}"));
    rejected("{\"prompt\":\"Hi\",\"logit_bias\":{\"hello\":1}}", "logit_bias", "invalid_value",
        "keys must be token ids, got 'hello'");
    rejected("{\"prompt\":\"Hi\",\"logit_bias\":{\"007\":1}}", "logit_bias", "invalid_value", "token ids");
    rejected("{\"prompt\":\"Hi\",\"logit_bias\":{\"-1\":1}}", "logit_bias", "invalid_value", "token ids");
    rejected("{\"prompt\":\"Hi\",\"logit_bias\":{\"5\":101}}", "logit_bias", "invalid_value",
        "between -100 and 100");
    rejected("{\"prompt\":\"Hi\",\"logit_bias\":{\"5\":\"1\"}}", "logit_bias", "invalid_type",
        "Invalid type for 'logit_bias.5': expected a number, but got a string instead.");
    rejected("{\"prompt\":\"Hi\",\"logit_bias\":{\"5\":1e309}}", "logit_bias", "invalid_value", "finite");
    assertThatThrownBy(() -> valid("{\"prompt\":\"Hi\",\"logit_bias\":{\"" + "9".repeat(10_000) + "\":1}}"))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.getMessage()).hasSizeLessThan(200));
  }

  @Test
  void logprobsAsksForUpToFiveAlternativesPerToken() {
    assertThat(valid("{\"prompt\":\"Hi\"}").logprobs()).isNull();
    assertThat(valid("{\"prompt\":\"Hi\",\"logprobs\":0}").logprobs()).isZero();
    assertThat(valid("{\"prompt\":\"Hi\",\"logprobs\":5}").logprobs()).isEqualTo(5);
    rejected("{\"prompt\":\"Hi\",\"logprobs\":6}", "logprobs", "invalid_value",
        "Invalid 'logprobs': expected an integer between 0 and 5, but got 6 instead.");
    rejected("{\"prompt\":\"Hi\",\"logprobs\":-1}", "logprobs", "invalid_value", "between 0 and 5");
    rejected("{\"prompt\":\"Hi\",\"logprobs\":true}", "logprobs", "invalid_type", "expected an integer");
  }

  @Test
  void unimplementedParametersAcceptedAtTheirNeutralValues() {
    assertThat(valid("{\"prompt\":\"Hi\",\"n\":2,\"echo\":false,\"best_of\":2,\"suffix\":\"\"}"))
        .isEqualTo(valid("{\"prompt\":\"Hi\",\"n\":2}"));
  }

  @Test
  void unimplementedParametersRejectedOtherwise() {
    rejected("{\"prompt\":\"Hi\",\"echo\":true}", "echo", "unsupported_parameter", "'echo' is not supported");
    rejected("{\"prompt\":\"Hi\",\"best_of\":3}", "best_of", "unsupported_parameter", "equal to n (1)");
    rejected("{\"prompt\":\"Hi\",\"suffix\":\"!\"}", "suffix", "unsupported_parameter", "only an empty string");
  }

  @Test
  void unimplementedParametersOfTheWrongType() {
    rejected("{\"prompt\":\"Hi\",\"echo\":1}", "echo", "invalid_type", "expected a boolean");
    rejected("{\"prompt\":\"Hi\",\"logit_bias\":[]}", "logit_bias", "invalid_type", "expected an object");
    rejected("{\"prompt\":\"Hi\",\"suffix\":1}", "suffix", "invalid_type", "expected a string");
    rejected("{\"prompt\":\"Hi\",\"presence_penalty\":\"0\"}", "presence_penalty", "invalid_type", "expected a number");
  }

  @Test
  void userIsCarriedAsMetadata() {
    assertThat(valid("{\"prompt\":\"Hi\",\"user\":\"alice\"}").metadata()).containsExactly(Map.entry("user", "alice"));
    rejected("{\"prompt\":\"Hi\",\"user\":5}", "user", "invalid_type", "expected a string");
    rejected("{\"prompt\":\"Hi\",\"user\":\"" + "u".repeat(257) + "\"}", "user", "invalid_value", "at most 256");
    rejected("{\"prompt\":\"Hi\",\"user\":\"a\",\"metadata\":{\"user\":\"b\"}}", "metadata", "invalid_value",
        "reserved");
  }

  @Test
  void metadataIsAnObjectOfStrings() {
    assertThat(valid("{\"prompt\":\"Hi\",\"metadata\":{\"a\":\"1\",\"b\":\"\"}}").metadata())
        .isEqualTo(Map.of("a", "1", "b", ""));
    rejected("{\"prompt\":\"Hi\",\"metadata\":[\"a\"]}", "metadata", "invalid_type", "expected an object");
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"a\":1}}", "metadata", "invalid_type",
        "Invalid type for 'metadata.a': expected a string");
  }

  @Test
  void metadataIsBounded() {
    StringBuilder many = new StringBuilder("{\"prompt\":\"Hi\",\"metadata\":{");
    for (int i = 0; i < 17; i++) {
      many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
    }
    rejected(many.append("}}").toString(), "metadata", "invalid_value", "at most 16 keys");
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"" + "k".repeat(65) + "\":\"v\"}}", "metadata", "invalid_value",
        "1 to 64 characters");
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"\":\"v\"}}", "metadata", "invalid_value", "1 to 64 characters");
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"k\":\"" + "v".repeat(513) + "\"}}", "metadata", "invalid_value",
        "at most 512 characters");
  }

  @Test
  void timeoutSecondsIsAPositiveNumber() {
    assertThat(valid("{\"prompt\":\"Hi\",\"timeout_seconds\":30}").timeout()).isEqualTo(Duration.ofSeconds(30));
    rejected("{\"prompt\":\"Hi\",\"timeout_seconds\":0}", "timeout_seconds", "invalid_value", "greater than 0");
    rejected("{\"prompt\":\"Hi\",\"timeout_seconds\":-5}", "timeout_seconds", "invalid_value", "greater than 0");
    rejected("{\"prompt\":\"Hi\",\"timeout_seconds\":86401}", "timeout_seconds", "invalid_value", "at most 86400");
    rejected("{\"prompt\":\"Hi\",\"timeout_seconds\":\"30\"}", "timeout_seconds", "invalid_type", "expected a number");
  }

  @Test
  void equalBodiesMakeEqualRequests() {
    // An Idempotency-Key retry is compared by value: field order and spacing do not matter.
    assertThat(valid("{\"prompt\":\"Hi\",\"n\":2,\"stop\":[\"x\"]}"))
        .isEqualTo(valid("{ \"stop\" : [\"x\"], \"n\" : 2, \"prompt\" : \"Hi\" }"))
        .isNotEqualTo(valid("{\"prompt\":\"Hi\",\"n\":3,\"stop\":[\"x\"]}"));
  }

  // ---- text: UTF-8 bodies, well-formed strings ----

  @Test
  void bodyMustBeUtf8() {
    byte[] prefix = "{\"prompt\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] suffix = "\"}".getBytes(StandardCharsets.UTF_8);
    // An overlong '/', an encoded surrogate, a byte no UTF-8 has, a truncated sequence: none is text.
    for (byte[] bad : new byte[][] {{(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xFF}, {(byte) 0xE2, (byte) 0x82}}) {
      byte[] body = new byte[prefix.length + bad.length + suffix.length];
      System.arraycopy(prefix, 0, body, 0, prefix.length);
      System.arraycopy(bad, 0, body, prefix.length, bad.length);
      System.arraycopy(suffix, 0, body, prefix.length + bad.length, suffix.length);
      rejected(body, null, "invalid_json", "not valid UTF-8 (at byte " + prefix.length + ")");
    }
    rejected("{\"prompt\":\"Hi\"}".getBytes(StandardCharsets.UTF_16LE), null, "invalid_json", "not valid JSON");
  }

  @Test
  void aLeadingByteOrderMarkIsIgnoredAndMultiByteTextKept() {
    byte[] json = "{\"prompt\":\"caf\u00e9 \ud83e\udd99\"}".getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[json.length + 3];
    body[0] = (byte) 0xEF;
    body[1] = (byte) 0xBB;
    body[2] = (byte) 0xBF;
    System.arraycopy(json, 0, body, 3, json.length);
    assertThat(completions.read(body).spec().prompt()).isEqualTo("caf\u00e9 \ud83e\udd99");
  }

  @Test
  void escapedHalvesOfSurrogatePairsAreRefusedWherePassedOn() {
    assertThat(valid("{\"prompt\":\"\\ud83e\\udd99\"}").prompt()).isEqualTo("\ud83e\udd99");
    rejected("{\"prompt\":\"a\\ud800\"}", "prompt", "invalid_value", "unpaired UTF-16 surrogate");
    rejected("{\"prompt\":\"\\udc00b\"}", "prompt", "invalid_value", "unpaired UTF-16 surrogate");
    rejected("{\"prompt\":\"Hi\",\"stop\":[\"\\ud800\"]}", "stop", "invalid_value", "unpaired");
    rejected("{\"prompt\":\"Hi\",\"user\":\"\\ud800\"}", "user", "invalid_value", "unpaired");
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"k\":\"\\ud800\"}}", "metadata", "invalid_value", "unpaired");
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"\\ud800\":\"v\"}}", "metadata", "invalid_value", "unpaired");
  }

  @Test
  void apiKeyNameIsReservedInMetadata() {
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"api_key_name\":\"admin\"}}", "metadata", "invalid_value",
        "'api_key_name' is reserved");
  }

  @Test
  void longStringsAreNotRepeatedInFull() {
    String model = "m".repeat(10_000);
    assertThatThrownBy(() -> valid("{\"prompt\":\"Hi\",\"model\":\"" + model + "\"}"))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.getMessage()).hasSizeLessThan(200));
    assertThatThrownBy(() -> valid("{\"prompt\":\"Hi\",\"" + model + "\":1}"))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.getMessage()).hasSizeLessThan(200));
  }
}
