package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.model.ModelDirectory;
import io.aigc.text.TextTokenizer;
import io.aigc.model.testing.TestModels;
import io.aigc.schemas.Completion;
import io.aigc.schemas.Topics;
import io.aigc.engine.DirectDecoder;
import io.aigc.engine.OnnxModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole system: a real Kafka broker (KRaft, in-process), the four services, HTTP requests in, text out.
 * Greedy results are compared with what the same model gives when decoded directly, with no Kafka and no batching.
 */
class PipelineEndToEndTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final List<String> PROMPTS = List.of(
      "This License applies to any program",
      "You may copy and distribute",
      "the Program",
      "Each contributor grants you a non-exclusive, worldwide license",
      "If you distribute copies of such a program, whether gratis or for a fee, you must pass on",
      "Licensed under the Apache License",
      "The",
      "Permission is granted to copy");

  @RegisterExtension
  static final PerClass<TestPipeline> pipeline = TestPipeline.perClass(() -> Map.of("AIGC_SYNC_TIMEOUT", "60s"));
  /** The API key the tests call with; the gateway is configured with its SHA-256 only. */
  static String apiKey;
  static String base;
  static OnnxModel model;
  static TextTokenizer tokenizer;

  @BeforeAll
  static void openTheModel() throws Exception {
    apiKey = pipeline.get().apiKey();
    base = "http://127.0.0.1:" + pipeline.get().gatewayPort();
    ModelDirectory dir = ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA));
    model = OnnxModel.open(dir, OnnxModel.SessionSettings.cpu().withThreads(1, false));
    tokenizer = TextTokenizer.load(dir);
  }

  @AfterAll
  static void closeTheModel() {
    if (model != null) {
      model.close();
    }
    if (tokenizer != null) {
      tokenizer.close();
    }
  }

  /** The text and token count the model gives for {@code prompt} when decoded directly, greedily. */
  static Map.Entry<String, Integer> direct(String prompt, int maxTokens) throws Exception {
    int[] ids = tokenizer.encode(prompt);
    int[] generated = DirectDecoder.greedy(model, List.of(ids), maxTokens, true).get(0);
    return Map.entry(tokenizer.continuation(ids, generated), generated.length);
  }

  static HttpResponse<String> post(String path, String body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(90))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + apiKey)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(request::header);
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + apiKey).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> delete(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + apiKey).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }


  static String body(Object... keyValues) throws Exception {
    ObjectNode node = JSON.createObjectNode();
    for (int i = 0; i < keyValues.length; i += 2) {
      node.set((String) keyValues[i], JSON.valueToTree(keyValues[i + 1]));
    }
    return JSON.writeValueAsString(node);
  }

  @Test
  void aGreedyCompletionIsExactlyWhatTheModelGivesDirectly() throws Exception {
    HttpResponse<String> response = post("/v1/completions",
        body("prompt", PROMPTS.get(0), "max_tokens", 24, "temperature", 0), Map.of());

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode json = JSON.readTree(response.body());
    Map.Entry<String, Integer> expected = direct(PROMPTS.get(0), 24);
    assertThat(json.get("object").asText()).isEqualTo("text_completion");
    assertThat(json.get("model").asText()).isEqualTo("tiny-llama");
    assertThat(json.get("id").asText()).isNotBlank();
    assertThat(json.get("created").asLong()).isPositive();
    assertThat(json.at("/choices/0/text").asText()).isEqualTo(expected.getKey());
    assertThat(json.at("/choices/0/index").asInt()).isZero();
    assertThat(json.at("/choices/0/finish_reason").asText()).isIn("length", "stop");
    assertThat(json.at("/usage/prompt_tokens").asInt()).isEqualTo(tokenizer.encode(PROMPTS.get(0)).length);
    assertThat(json.at("/usage/completion_tokens").asInt()).isEqualTo(expected.getValue());
    assertThat(json.at("/usage/total_tokens").asInt())
        .isEqualTo(json.at("/usage/prompt_tokens").asInt() + json.at("/usage/completion_tokens").asInt());
  }

  @Test
  void eightGreedyRequestsAtOnceEachGetWhatTheModelGivesAlone() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (String prompt : PROMPTS) {
      responses.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
          .timeout(Duration.ofSeconds(90)).header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + apiKey)
          .POST(HttpRequest.BodyPublishers.ofString(body("prompt", prompt, "max_tokens", 32, "temperature", 0)))
          .build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (int i = 0; i < PROMPTS.size(); i++) {
      HttpResponse<String> response = responses.get(i).get();
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonNode json = JSON.readTree(response.body());
      Map.Entry<String, Integer> expected = direct(PROMPTS.get(i), 32);
      assertThat(json.at("/choices/0/text").asText()).as("prompt %d", i).isEqualTo(expected.getKey());
      assertThat(json.at("/usage/completion_tokens").asInt()).isEqualTo(expected.getValue());
    }
  }

  @Test
  void seededSamplingIsReproducibleAndNChoicesComeBackInOrder() throws Exception {
    String request = body("prompt", PROMPTS.get(1), "max_tokens", 20, "temperature", 0.9, "top_p", 0.95,
        "seed", 42, "n", 2);
    JsonNode first = JSON.readTree(post("/v1/completions", request, Map.of()).body());
    JsonNode second = JSON.readTree(post("/v1/completions", request, Map.of()).body());
    assertThat(first.get("choices")).hasSize(2);
    assertThat(first.at("/choices/0/index").asInt()).isZero();
    assertThat(first.at("/choices/1/index").asInt()).isEqualTo(1);
    assertThat(second.get("choices")).isEqualTo(first.get("choices"));
    assertThat(first.at("/choices/0/text").asText()).isNotEqualTo(first.at("/choices/1/text").asText());
  }

  @Test
  void aStopSequenceEndsTheTextBeforeIt() throws Exception {
    String full = direct(PROMPTS.get(0), 40).getKey();
    String stop = full.substring(full.length() / 2, full.length() / 2 + 4);
    JsonNode json = JSON.readTree(post("/v1/completions",
        body("prompt", PROMPTS.get(0), "max_tokens", 40, "temperature", 0, "stop", List.of(stop, "zzzz")), Map.of())
        .body());
    assertThat(json.at("/choices/0/text").asText()).isEqualTo(full.substring(0, full.indexOf(stop)));
    assertThat(json.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
  }

  @Test
  void anAsyncJobIsQueuedThenDoneAndAnIdempotentRetryReturnsTheSameJob() throws Exception {
    String request = body("prompt", PROMPTS.get(2), "max_tokens", 16, "temperature", 0,
        "metadata", Map.of("article_id", "a-42"));
    String key = "retry-" + System.nanoTime();
    HttpResponse<String> accepted = post("/v1/jobs", request, Map.of("Idempotency-Key", key));
    assertThat(accepted.statusCode()).isEqualTo(202);
    String id = JSON.readTree(accepted.body()).get("id").asText();
    HttpResponse<String> retried = post("/v1/jobs", request, Map.of("Idempotency-Key", key));
    assertThat(JSON.readTree(retried.body()).get("id").asText()).isEqualTo(id);

    await().atMost(Duration.ofSeconds(60)).until(() -> JSON.readTree(get("/v1/jobs/" + id).body())
        .get("status").asText().equals("done"));
    JsonNode job = JSON.readTree(get("/v1/jobs/" + id).body());
    assertThat(job.findValue("text").asText()).isEqualTo(direct(PROMPTS.get(2), 16).getKey());

    // Downstream consumers read the same completion from Kafka, metadata included, exactly once.
    List<Completion> completions = completionsFor(id);
    assertThat(completions).hasSize(1);
    assertThat(completions.get(0).getMetadata()).containsEntry("article_id", "a-42");
    assertThat(get("/v1/jobs/no-such-job").statusCode()).isEqualTo(404);
  }

  @Test
  void aCancelledJobEndsCancelledAndItsCompletionSaysSo() throws Exception {
    HttpResponse<String> accepted = post("/v1/jobs", body("prompt", PROMPTS.get(0), "max_tokens", 240,
        "n", 4, "temperature", 0.9, "ignore_eos", true), Map.of());
    String id = JSON.readTree(accepted.body()).get("id").asText();
    HttpResponse<String> cancelling = delete("/v1/jobs/" + id);
    assertThat(cancelling.statusCode()).as(cancelling.body()).isEqualTo(202);

    await().atMost(Duration.ofSeconds(60)).until(() -> JSON.readTree(get("/v1/jobs/" + id).body())
        .get("status").asText().equals("cancelled"));
    List<Completion> completions = completionsFor(id);
    assertThat(completions).hasSize(1);
    assertThat(completions.get(0).getError().getCode()).isEqualTo("cancelled");
    assertThat(delete("/v1/jobs/" + id).statusCode()).isEqualTo(409);
  }

  @Test
  void withoutAValidKeyTheApiAnswers401() throws Exception {
    HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hi\"}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(none.statusCode()).isEqualTo(401);
    HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/x"))
        .header("Authorization", "Bearer not-the-key").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(wrong.body()).at("/error/code").asText()).isEqualTo("invalid_api_key");
  }

  @Test
  void aPromptThatDoesNotFitTheContextGetsContextLengthExceeded() throws Exception {
    String prompt = String.join(" ", java.util.Collections.nCopies(100, "the Program"));
    HttpResponse<String> response = post("/v1/completions", body("prompt", prompt, "max_tokens", 200), Map.of());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    JsonNode error = JSON.readTree(response.body()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
    assertThat(error.get("message").asText()).contains("maximum context length is 256 tokens");
  }

  /** One more invalid request, too large to write out: a body over the gateway's size limit. */
  static Stream<Arguments> oversizedBody() {
    return Stream.of(Arguments.of("body over the size limit", "{\"prompt\": \"" + "x".repeat(2 << 20) + "\"}", null));
  }

  // Why | body | the param the error names ("-": none)
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', nullValues = "-", textBlock = """
      malformed JSON                | {"prompt": "hi",                              | -
      not an object                 | [1, 2]                                        | -
      missing prompt                | {"max_tokens": 5}                             | prompt
      prompt of the wrong type      | {"prompt": 42}                                | prompt
      max_tokens of the wrong type  | {"prompt": "hi", "max_tokens": "ten"}         | max_tokens
      max_tokens below 1            | {"prompt": "hi", "max_tokens": 0}             | max_tokens
      max_tokens above the limit    | {"prompt": "hi", "max_tokens": 100000}        | max_tokens
      temperature above 2           | {"prompt": "hi", "temperature": 2.5}          | temperature
      temperature below 0           | {"prompt": "hi", "temperature": -0.1}         | temperature
      temperature of the wrong type | {"prompt": "hi", "temperature": "hot"}        | temperature
      top_p of 0                    | {"prompt": "hi", "top_p": 0}                  | top_p
      top_p above 1                 | {"prompt": "hi", "top_p": 1.5}                | top_p
      n of 0                        | {"prompt": "hi", "n": 0}                      | n
      n above the limit             | {"prompt": "hi", "n": 100}                    | n
      unknown field                 | {"prompt": "hi", "temprature": 1}             | temprature
      """)
  @MethodSource("oversizedBody")
  void everyInvalidRequestGetsA400WithAnOpenAiErrorBody(String why, String requestBody, String param) throws Exception {
    for (String path : List.of("/v1/completions", "/v1/jobs")) {
      HttpResponse<String> response = post(path, requestBody, Map.of());
      assertThat(response.statusCode()).as("%s %s: %s", path, why, response.body()).isEqualTo(400);
      JsonNode error = JSON.readTree(response.body()).get("error");
      assertThat(error.get("message").asText()).isNotBlank();
      assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
      assertThat(error.has("code")).isTrue();
      if (param != null) {
        assertThat(error.get("param").asText()).isEqualTo(param);
      }
    }
  }

  @Test
  void anUnknownModelGets404ModelNotFoundAsFromOpenAi() throws Exception {
    for (String path : List.of("/v1/completions", "/v1/jobs")) {
      HttpResponse<String> response = post(path, "{\"prompt\": \"hi\", \"model\": \"gpt-99\"}", Map.of());
      assertThat(response.statusCode()).as("%s: %s", path, response.body()).isEqualTo(404);
      JsonNode error = JSON.readTree(response.body()).get("error");
      assertThat(error.get("code").asText()).isEqualTo("model_not_found");
      assertThat(error.get("param").asText()).isEqualTo("model");
    }
  }

  @Test
  void probesAndMetricsAnswer() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    post("/v1/completions", body("prompt", "The", "max_tokens", 2), Map.of());
    assertThat(get("/metrics").body()).contains("jvm_");
    for (int port : pipeline.get().metricsPorts().values()) {
      HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
    }
  }

  private static List<Completion> completionsFor(String id) {
    Topics topics = Topics.defaults();
    List<Completion> found = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
        KafkaSettings.fromEnv(Env.of(pipeline.get().clientEnv())).consumer("e2e-" + System.nanoTime(), "e2e"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topics.completions().name()));
      long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      boolean extended = false;
      // Read until the completion shows up, then a second longer: a duplicate would arrive right behind it.
      while (System.nanoTime() < end) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (id.equals(r.key())) {
            found.add(topics.completions().valueSerde().decode(r.value()));
          }
        }
        if (!found.isEmpty() && !extended) {
          extended = true;
          end = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        }
      }
    }
    return found;
  }
}
