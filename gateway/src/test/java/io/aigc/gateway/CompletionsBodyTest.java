package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.model.SamplingParams;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Tasks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
    Refusals.assertRefused(() -> completions.read(body), status, param, code, message);
  }

  /** Bodies refused with a 400: the parameter, code and message (a part of it) each is refused with. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
      # a task request is checked against the deployment's tasks
      {"task":"poem","task_fields":{"topic":"x"}} | task | invalid_value | Invalid 'task': there is no task 'poem'; this deployment has news-summary, ad-copy, email-reply, lesson-outline.
      {"task":"news-summary","task_fields":{"title":"T"}} | task_fields | invalid_value | the task 'news-summary' requires the field 'body'.
      {"task":"news-summary"} | task_fields | invalid_value | requires the field 'title'
      {"task":"news-summary","task_fields":{"title":"T","body":"B","x":"1"}} | task_fields | invalid_value | has no field 'x'
      {"task":"news-summary","task_fields":{"title":1}} | task_fields | invalid_type | Invalid type for 'task_fields.title': expected a string, but got an integer instead.
      {"task":"news-summary","task_fields":[]} | task_fields | invalid_type | an object
      {"task":7} | task | invalid_type | Invalid type for 'task'
      {"task":"news-summary","prompt":"p","task_fields":{"title":"T","body":"B"}} | prompt | invalid_value | not allowed with 'task'
      {"prompt":"p","task_fields":{"body":"B"}} | task_fields | invalid_value | only with a 'task'
      # not JSON
      {"prompt": "Hi" |  | invalid_json | not valid JSON
      # content after the object
      {"prompt":"Hi"} {} |  | invalid_json | not valid JSON
      # duplicate keys
      {"prompt":"a","prompt":"b"} |  | invalid_json | Duplicate field 'prompt'
      # an unknown field, in OpenAI's wording
      {"prompt":"Hi","foo":1} | foo | unknown_parameter | Unrecognized request argument supplied: foo
      # missing prompt
      {"max_tokens":5} | prompt | missing_required_parameter | Missing required parameter: 'prompt'
      {"prompt":null} | prompt | missing_required_parameter | 'prompt'
      # a prompt that is not a string
      {"prompt":42} | prompt | invalid_type | expected a string, but got an integer
      {"prompt":{"text":"Hi"}} | prompt | invalid_type | but got an object
      {"prompt":[7]} | prompt | invalid_type | but got an integer
      # a prompt array holds exactly one string
      {"prompt":["a","b"]} | prompt | invalid_value | only one prompt per request
      {"prompt":[]} | prompt | invalid_value | got an array of 0
      # empty prompt
      {"prompt":""} | prompt | invalid_value | must not be empty
      {"prompt":[""]} | prompt | invalid_value | must not be empty
      # max tokens wrong type
      {"prompt":"Hi","max_tokens":"ten"} | max_tokens | invalid_type | Invalid type for 'max_tokens': expected an integer, but got a string instead.
      {"prompt":"Hi","max_tokens":1.5} | max_tokens | invalid_type | but got a decimal number
      {"prompt":"Hi","max_tokens":16.0} | max_tokens | invalid_type | but got a decimal number
      # max tokens range
      {"prompt":"Hi","max_tokens":0} | max_tokens | invalid_value | between 1 and 256
      {"prompt":"Hi","max_tokens":257} | max_tokens | invalid_value | but got 257
      {"prompt":"Hi","max_tokens":100000000000000000000} | max_tokens | invalid_value | 32-bit
      # temperature wrong type
      {"prompt":"Hi","temperature":"hot"} | temperature | invalid_type | Invalid type for 'temperature': expected a number, but got a string instead.
      # temperature range
      {"prompt":"Hi","temperature":-0.1} | temperature | invalid_value | between 0 and 2
      {"prompt":"Hi","temperature":2.01} | temperature | invalid_value | between 0 and 2
      # top_p
      {"prompt":"Hi","top_p":0} | top_p | invalid_value | greater than 0 and at most 1
      {"prompt":"Hi","top_p":1.5} | top_p | invalid_value | greater than 0 and at most 1
      {"prompt":"Hi","top_p":"all"} | top_p | invalid_type | expected a number
      # top_k is at least 0
      {"prompt":"Hi","top_k":-1} | top_k | invalid_value | at least 0
      {"prompt":"Hi","top_k":true} | top_k | invalid_type | but got a boolean
      # n
      {"prompt":"Hi","n":0} | n | invalid_value | between 1 and 8
      {"prompt":"Hi","n":9} | n | invalid_value | between 1 and 8
      {"prompt":"Hi","n":2.0} | n | invalid_type | expected an integer
      # stop not string or array
      {"prompt":"Hi","stop":5} | stop | invalid_type | expected a string or an array of strings
      {"prompt":"Hi","stop":["a",5]} | stop | invalid_type | expected strings
      # stop at most four non empty strings
      {"prompt":"Hi","stop":["a","b","c","d","e"]} | stop | invalid_value | at most 4
      {"prompt":"Hi","stop":""} | stop | invalid_value | must not be empty
      {"prompt":"Hi","stop":["a",""]} | stop | invalid_value | must not be empty
      # seed is a 64-bit integer
      {"prompt":"Hi","seed":1.5} | seed | invalid_type | expected an integer
      {"prompt":"Hi","seed":"7"} | seed | invalid_type | expected an integer
      {"prompt":"Hi","seed":9223372036854775808} | seed | invalid_value | 64-bit
      # model
      {"prompt":"Hi","model":7} | model | invalid_type | expected a string
      # stream is a boolean and its options come only with it
      {"prompt":"Hi","stream":"no"} | stream | invalid_type | expected a boolean
      {"prompt":"Hi","stream_options":{"include_usage":true}} | stream_options | invalid_value | only allowed when 'stream' is enabled
      {"prompt":"Hi","stream":true,"stream_options":true} | stream_options | invalid_type | expected an object
      {"prompt":"Hi","stream":true,"stream_options":{"include_usage":1}} | stream_options.include_usage | invalid_type | expected a boolean
      {"prompt":"Hi","stream":true,"stream_options":{"x":true}} | stream_options.x | unknown_parameter | Unrecognized request argument supplied: stream_options.x
      # penalties and extensions out of range
      {"prompt":"Hi","presence_penalty":2.5} | presence_penalty | invalid_value | Invalid 'presence_penalty': expected a number between -2 and 2, but got 2.5 instead.
      {"prompt":"Hi","frequency_penalty":-3} | frequency_penalty | invalid_value | between -2 and 2
      {"prompt":"Hi","repetition_penalty":0} | repetition_penalty | invalid_value | greater than 0
      {"prompt":"Hi","min_p":1.5} | min_p | invalid_value | between 0 and 1
      {"prompt":"Hi","min_tokens":-1} | min_tokens | invalid_value | at least 0
      {"prompt":"Hi","max_tokens":4,"min_tokens":5} | min_tokens | invalid_value | must be at most max_tokens (4)
      {"prompt":"Hi","min_tokens":1.5} | min_tokens | invalid_type | expected an integer
      # logit bias maps token ids to biases
      {"prompt":"Hi","logit_bias":{"hello":1}} | logit_bias | invalid_value | keys must be token ids, got 'hello'
      {"prompt":"Hi","logit_bias":{"007":1}} | logit_bias | invalid_value | token ids
      {"prompt":"Hi","logit_bias":{"-1":1}} | logit_bias | invalid_value | token ids
      {"prompt":"Hi","logit_bias":{"5":101}} | logit_bias | invalid_value | between -100 and 100
      {"prompt":"Hi","logit_bias":{"5":"1"}} | logit_bias | invalid_type | Invalid type for 'logit_bias.5': expected a number, but got a string instead.
      {"prompt":"Hi","logit_bias":{"5":1e309}} | logit_bias | invalid_value | finite
      # logprobs asks for up to five alternatives per token
      {"prompt":"Hi","logprobs":6} | logprobs | invalid_value | Invalid 'logprobs': expected an integer between 0 and 5, but got 6 instead.
      {"prompt":"Hi","logprobs":-1} | logprobs | invalid_value | between 0 and 5
      {"prompt":"Hi","logprobs":true} | logprobs | invalid_type | expected an integer
      # unimplemented parameters rejected otherwise
      {"prompt":"Hi","echo":true} | echo | unsupported_parameter | 'echo' is not supported
      {"prompt":"Hi","best_of":3} | best_of | unsupported_parameter | equal to n (1)
      {"prompt":"Hi","suffix":"!"} | suffix | unsupported_parameter | only an empty string
      # unimplemented parameters of the wrong type
      {"prompt":"Hi","echo":1} | echo | invalid_type | expected a boolean
      {"prompt":"Hi","logit_bias":[]} | logit_bias | invalid_type | expected an object
      {"prompt":"Hi","suffix":1} | suffix | invalid_type | expected a string
      {"prompt":"Hi","presence_penalty":"0"} | presence_penalty | invalid_type | expected a number
      # user is carried as metadata
      {"prompt":"Hi","user":5} | user | invalid_type | expected a string
      {"prompt":"Hi","user":"a","metadata":{"user":"b"}} | metadata | invalid_value | reserved
      # metadata is an object of strings
      {"prompt":"Hi","metadata":["a"]} | metadata | invalid_type | expected an object
      {"prompt":"Hi","metadata":{"a":1}} | metadata | invalid_type | Invalid type for 'metadata.a': expected a string
      # metadata is bounded
      {"prompt":"Hi","metadata":{"":"v"}} | metadata | invalid_value | 1 to 64 characters
      # timeout_seconds is a positive number
      {"prompt":"Hi","timeout_seconds":0} | timeout_seconds | invalid_value | greater than 0
      {"prompt":"Hi","timeout_seconds":-5} | timeout_seconds | invalid_value | greater than 0
      {"prompt":"Hi","timeout_seconds":86401} | timeout_seconds | invalid_value | at most 86400
      {"prompt":"Hi","timeout_seconds":"30"} | timeout_seconds | invalid_type | expected a number
      # escaped halves of surrogate pairs are refused where passed on
      {"prompt":"a\\ud800"} | prompt | invalid_value | unpaired UTF-16 surrogate
      {"prompt":"\\udc00b"} | prompt | invalid_value | unpaired UTF-16 surrogate
      {"prompt":"Hi","stop":["\\ud800"]} | stop | invalid_value | unpaired
      {"prompt":"Hi","user":"\\ud800"} | user | invalid_value | unpaired
      {"prompt":"Hi","metadata":{"k":"\\ud800"}} | metadata | invalid_value | unpaired
      {"prompt":"Hi","metadata":{"\\ud800":"v"}} | metadata | invalid_value | unpaired
      # api_key_name is reserved in metadata
      {"prompt":"Hi","metadata":{"api_key_name":"admin"}} | metadata | invalid_value | 'api_key_name' is reserved
      """)
  void refusedWithTheParameterCodeAndMessage(String body, String param, String code, String message) {
    rejected(body, param, code, message);
  }

  /** Values at the edges of their ranges, accepted and carried as they are: the field's accessor, its value. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
      {"prompt":"Hi","max_tokens":1}             | maxTokens   | 1
      {"prompt":"Hi","max_tokens":256}           | maxTokens   | 256
      {"prompt":"Hi","temperature":0}            | temperature | 0.0
      {"prompt":"Hi","temperature":2}            | temperature | 2.0
      {"prompt":"Hi","top_p":1}                  | topP        | 1.0
      {"prompt":"Hi","top_p":0.01}               | topP        | 0.01
      {"prompt":"Hi","top_k":0}                  | topK        | 0
      {"prompt":"Hi","top_k":50}                 | topK        | 50
      {"prompt":"Hi","n":8}                      | n           | 8
      {"prompt":"Hi","seed":9223372036854775807} | seed        | 9223372036854775807
      {"prompt":"Hi"}                            | logprobs    | -1
      {"prompt":"Hi","logprobs":0}               | logprobs    | 0
      {"prompt":"Hi","logprobs":5}               | logprobs    | 5
      {"prompt":"Hi","timeout_seconds":30}       | timeout     | PT30S
      """)
  void acceptedAndCarried(String body, String accessor, String carried) throws Exception {
    RequestSpec spec = valid(body);
    Object value = accessor.equals("timeout") ? spec.timeout()
        : SamplingParams.class.getMethod(accessor).invoke(spec.sampling());
    assertThat(String.valueOf(value)).isEqualTo(carried);
  }

  @Test
  void aNamedTaskTakesItsFieldsInsteadOfAPrompt() {
    RequestSpec r = valid("{\"task\":\"news-summary\",\"task_fields\":{\"title\":\"T\",\"body\":\"B\"},"
        + "\"metadata\":{\"article_id\":\"42\"},\"temperature\":0}");
    assertThat(r).isEqualTo(RequestSpec.builder().task("news-summary", Map.of("title", "T", "body", "B"))
        .sampling(s -> s.temperature(0)).metadata(Map.of("article_id", "42")).model("tiny-llama").build());
    assertThat(r.prompt()).isEmpty();
  }

  @Test
  void fillsOpenAiDefaults() {
    RequestSpec r = valid("{\"prompt\":\"Hello\"}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").prompt("Hello")
        .sampling(s -> s.maxTokens(16).temperature(1.0).topP(1.0).topK(0).n(1)).build());
  }

  @Test
  void carriesEveryAcceptedField() {
    RequestSpec r = valid("{\"model\":\"tiny-llama\",\"prompt\":\"Hi\",\"max_tokens\":32,\"temperature\":0.7,"
        + "\"top_p\":0.9,\"top_k\":40,\"n\":2,\"stop\":[\"\\n\",\"END\"],\"seed\":-7,\"ignore_eos\":true,\"stream\":false,"
        + "\"user\":\"u-1\",\"metadata\":{\"article\":\"42\"},\"timeout_seconds\":2.5}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").prompt("Hi")
        .sampling(s -> s.maxTokens(32).temperature(0.7).topP(0.9).topK(40).n(2).stop(List.of("\n", "END")).seed(-7L)
            .ignoreEos(true))
        .metadata(Map.of("article", "42", "user", "u-1")).timeout(Duration.ofMillis(2500)).build());
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
  void promptArrayOfExactlyOneString() {
    assertThat(valid("{\"prompt\":[\"Hi\"]}").prompt()).isEqualTo("Hi");
  }


  @Test
  void defaultMaxTokensNeverExceedsTheLimit() {
    CompletionsBody small = new CompletionsBody(ServedModels.of("m", 0), new RequestRules.Limits(8, 8),
        Tasks.builtIn());
    assertThat(small.read("{\"prompt\":\"Hi\"}".getBytes(StandardCharsets.UTF_8)).spec().sampling().maxTokens())
        .isEqualTo(8);
  }





  @Test
  void stopAsOneString() {
    assertThat(valid("{\"prompt\":\"Hi\",\"stop\":\"\\n\"}").sampling().stop()).containsExactly("\n");
  }

  @Test
  void stopAtMostFourNonEmptyStrings() {
    assertThat(valid("{\"prompt\":\"Hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\"]}").sampling().stop()).hasSize(4);
  }


  @Test
  void anUnknownModelIsNotFoundAsOpenAiAnswersIt() {
    assertThat(valid("{\"prompt\":\"Hi\",\"model\":\"tiny-llama\"}").prompt()).isEqualTo("Hi");
    rejected("{\"prompt\":\"Hi\",\"model\":\"gpt-4\"}".getBytes(StandardCharsets.UTF_8), 404, "model",
        "model_not_found", "'gpt-4' does not exist");
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
  }

  @Test
  void penaltiesAndTheVllmSamplingExtensionsAreCarried() {
    RequestSpec r = valid("{\"prompt\":\"Hi\",\"max_tokens\":8,\"presence_penalty\":0.5,"
        + "\"frequency_penalty\":-1.5,\"repetition_penalty\":1.2,\"min_p\":0.05,\"min_tokens\":3}");
    assertThat(r).isEqualTo(RequestSpec.builder().model("tiny-llama").prompt("Hi")
        .sampling(s -> s.maxTokens(8).presencePenalty(0.5).frequencyPenalty(-1.5).repetitionPenalty(1.2).minP(0.05)
            .minTokens(3))
        .build());
  }

  @Test
  void logitBiasMapsTokenIdsToBiases() {
    assertThat(valid("{\"prompt\":\"Hi\",\"logit_bias\":{\"50256\":-100,\"0\":2.5}}").sampling().logitBias())
        .isEqualTo(Map.of(50256, -100.0, 0, 2.5));
    assertThat(valid("{\"prompt\":\"Hi\",\"logit_bias\":{}}")).isEqualTo(valid("{\"prompt\":\"Hi\"}"));
    assertThatThrownBy(() -> valid("{\"prompt\":\"Hi\",\"logit_bias\":{\"" + "9".repeat(10_000) + "\":1}}"))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.getMessage()).hasSizeLessThan(200));
  }


  @Test
  void unimplementedParametersAcceptedAtTheirNeutralValues() {
    assertThat(valid("{\"prompt\":\"Hi\",\"n\":2,\"echo\":false,\"best_of\":2,\"suffix\":\"\"}"))
        .isEqualTo(valid("{\"prompt\":\"Hi\",\"n\":2}"));
  }

  @Test
  void userIsCarriedAsMetadata() {
    assertThat(valid("{\"prompt\":\"Hi\",\"user\":\"alice\"}").metadata()).containsExactly(Map.entry("user", "alice"));
    rejected("{\"prompt\":\"Hi\",\"user\":\"" + "u".repeat(257) + "\"}", "user", "invalid_value", "at most 256");
  }

  @Test
  void metadataIsAnObjectOfStrings() {
    assertThat(valid("{\"prompt\":\"Hi\",\"metadata\":{\"a\":\"1\",\"b\":\"\"}}").metadata())
        .isEqualTo(Map.of("a", "1", "b", ""));
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
    rejected("{\"prompt\":\"Hi\",\"metadata\":{\"k\":\"" + "v".repeat(513) + "\"}}", "metadata", "invalid_value",
        "at most 512 characters");
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
