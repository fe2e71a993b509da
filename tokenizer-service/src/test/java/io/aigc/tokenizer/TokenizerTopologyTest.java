package io.aigc.tokenizer;

import static io.aigc.runtime.streams.testing.DeadLetterAssert.assertThatLetter;
import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.runtime.Env;
import io.aigc.text.ModelTokenizers;
import io.aigc.text.TextTokenizer;
import io.aigc.schemas.testing.AvroBytes;
import io.aigc.runtime.streams.testing.TopologyHarness;
import io.aigc.model.testing.TestModels;
import io.aigc.text.testing.TestTokenizers;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.TokenizedRequest;
import io.aigc.schemas.Topics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TokenizerTopologyTest {
  private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
  private static final Topics TOPICS = Topics.defaults();
  /** "This License applies to any program" for tiny-llama: BOS, ▁This ▁License ▁appl ies ▁to ▁any ▁program. */
  private static final List<Integer> LLAMA_IDS = List.of(1, 752, 400, 727, 555, 370, 428, 561);

  private static final ModelTokenizers.Served LLAMA = TestTokenizers.served(TestModels.TINY_LLAMA);

  @TempDir
  Path stateDir;
  @AutoClose
  private TopologyHarness harness;
  private TokenizerMetrics metrics;
  private TestInputTopic<String, byte[]> requests;
  private TestOutputTopic<String, TokenizedRequest> tokenized;
  private TestOutputTopic<String, GeneratedSequence> generated;
  private TestOutputTopic<String, DeadLetter> dlq;

  private void start(List<ModelTokenizers.Served> models, Map<String, String> vars) {
    Map<String, String> env = TestTokenizers.env(models, vars);
    env.put("HOSTNAME", "test-host");
    TokenizerConfig config = TokenizerConfig.fromEnv(Env.of(env));
    metrics = new TokenizerMetrics(new PrometheusRegistry());
    harness = TopologyHarness.start(TokenizerTopology.build(config, models, metrics), stateDir, NOW);
    requests = harness.input(TOPICS.requests());
    tokenized = harness.output(TOPICS.tokenized(models.get(0).name()));
    generated = harness.output(TOPICS.generated());
    dlq = harness.output(TOPICS.dlq());
  }

  private void start() {
    start(List.of(LLAMA), Map.of());
  }

  private static GenerationRequest request(String id, String prompt) {
    return RequestSpec.builder().prompt(prompt).sampling(s -> s.maxTokens(16)).metadata(Map.of("article", "42")).build()
        .toEvent(id, NOW.minusSeconds(1), null);
  }

  private void send(String key, GenerationRequest request) {
    requests.pipeInput(key, TOPICS.requests().valueSerde().encode(request));
  }

  @Test
  void tokenizesAPromptForTinyLlamaWithOneBos() {
    start();
    GenerationRequest request = request("r-1", "This License applies to any program");
    send("r-1", request);

    KeyValue<String, TokenizedRequest> out = tokenized.readKeyValue();
    assertThat(out.key).isEqualTo("r-1");
    assertThat(out.value.getPromptTokenIds()).containsExactlyElementsOf(LLAMA_IDS);
    assertThat(out.value.getModel()).isEqualTo("tiny-llama");
    assertThat(out.value.getRequest()).isEqualTo(request);
    assertThat(out.value.getTokenizedAt()).isEqualTo(NOW.toEpochMilli());
    assertThat(tokenized.isEmpty()).isTrue();
    assertThat(generated.isEmpty()).isTrue();
    assertThat(dlq.isEmpty()).isTrue();
    assertThat(metrics.tokenized.get()).isEqualTo(1.0);
    assertThat(metrics.promptTokens.collect().getDataPoints().get(0).getSum()).isEqualTo(LLAMA_IDS.size());
  }

  @Test
  void tokenizesAPromptForTinyGpt2WithoutSpecialTokens() {
    ModelTokenizers.Served gpt2 = TestTokenizers.served(TestModels.TINY_GPT2);
    start(List.of(gpt2), Map.of());
    send("r-1", request("r-1", "This License applies to any program"));

    TokenizedRequest out = tokenized.readValue();
    // This ĠLicense Ġappl ies Ġto Ġany Ġprogram: byte-level BPE, no BOS.
    assertThat(out.getPromptTokenIds()).containsExactly(895, 315, 639, 467, 285, 342, 471);
    assertThat(out.getModel()).isEqualTo("tiny-gpt2");
  }

  @Test
  void appliesThePromptTemplateBeforeTokenizing() {
    start(List.of(LLAMA), Map.of("AIGC_PROMPT_TEMPLATE", "Q: {prompt} A:"));
    send("r-1", request("r-1", "This License"));

    // BOS ▁Q : ▁This ▁License ▁A : — the template's text around the prompt, BOS still only once at the start.
    assertThat(tokenized.readValue().getPromptTokenIds()).containsExactly(1, 340, 301, 280, 752, 400, 442, 280);
  }

  static Stream<Arguments> invalidRequests() {
    return Stream.of(
        Arguments.of("request_id", (Consumer<GenerationRequest>) r -> r.setRequestId("")),
        Arguments.of("'other' does not match the record key", (Consumer<GenerationRequest>) r -> r.setRequestId("other")),
        Arguments.of("prompt", (Consumer<GenerationRequest>) r -> r.setPrompt("")),
        Arguments.of("max_tokens", (Consumer<GenerationRequest>) r -> r.getParams().setMaxTokens(0)),
        Arguments.of("temperature", (Consumer<GenerationRequest>) r -> r.getParams().setTemperature(Double.NaN)),
        Arguments.of("temperature", (Consumer<GenerationRequest>) r -> r.getParams().setTemperature(2.01)),
        Arguments.of("temperature", (Consumer<GenerationRequest>) r -> r.getParams().setTemperature(-0.5)),
        Arguments.of("top_p", (Consumer<GenerationRequest>) r -> r.getParams().setTopP(0.0)),
        Arguments.of("top_p", (Consumer<GenerationRequest>) r -> r.getParams().setTopP(1.5)),
        Arguments.of("top_k", (Consumer<GenerationRequest>) r -> r.getParams().setTopK(-1)),
        Arguments.of("n", (Consumer<GenerationRequest>) r -> r.getParams().setN(0)),
        Arguments.of("n", (Consumer<GenerationRequest>) r -> r.getParams().setN(9)),
        Arguments.of("stop[1]", (Consumer<GenerationRequest>) r -> r.getParams().setStop(List.of("\n", ""))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidRequests")
  void anInvalidValueIsDeadLetteredAndItsCallerToldWhichField(String field, Consumer<GenerationRequest> breakIt) {
    start();
    GenerationRequest request = request("r-1", "This License");
    breakIt.accept(request);
    byte[] bytes = TOPICS.requests().valueSerde().encode(request);
    requests.pipeInput("r-1", bytes);

    DeadLetter letter = dlq.readValue();
    assertThatLetter(letter).hasReason("invalid_value").readFrom("generation.requests", 0).carries("r-1", bytes)
        .by("tokenizer-service");
    assertThat(letter.getReason()).contains(field);

    KeyValue<String, GeneratedSequence> error = generated.readKeyValue();
    assertThat(error.key).isEqualTo("r-1");
    assertThat(error.value.getStatus()).isEqualTo(CompletionStatus.ERROR);
    assertThat(error.value.getError().getCode()).isEqualTo("invalid_request");
    assertThat(error.value.getError().getMessage()).isEqualTo(letter.getReason());
    // Compared as bytes: a NaN temperature is not equal to itself.
    assertThat(TOPICS.requests().valueSerde().encode(error.value.getRequest())).isEqualTo(bytes);
    assertThat(error.value.getProducer()).isEqualTo("tokenizer-service@test-host");
    assertThat(tokenized.isEmpty()).isTrue();
    assertThat(metrics.errors.labelValues("invalid_request").get()).isEqualTo(1.0);
    assertThat(metrics.deadLetters.labelValues("tokenizer-service", "invalid_value").get()).isEqualTo(1.0);
  }

  @Test
  void aRequestWithoutAKeyIsAnsweredUnderItsRequestId() {
    start();
    requests.pipeInput((String) null, TOPICS.requests().valueSerde().encode(request("r-1", "This License")));

    assertThat(dlq.readValue().getReasonCode()).isEqualTo("invalid_value");
    KeyValue<String, GeneratedSequence> error = generated.readKeyValue();
    assertThat(error.key).isEqualTo("r-1");
    assertThat(error.value.getError().getCode()).isEqualTo("invalid_request");
  }

  @Test
  void aPassedDeadlineIsAnErrorButNotADeadLetter() {
    start();
    GenerationRequest late = request("late", "This License");
    late.setDeadline(NOW.minusMillis(1).toEpochMilli());
    GenerationRequest onTime = request("on-time", "This License");
    onTime.setDeadline(NOW.plusSeconds(30).toEpochMilli());
    send("late", late);
    send("on-time", onTime);

    GeneratedSequence error = generated.readValue();
    assertThat(error.getError().getCode()).isEqualTo("deadline_exceeded");
    assertThat(error.getRequest()).isEqualTo(late);
    assertThat(tokenized.readKeyValue().key).isEqualTo("on-time");
    assertThat(dlq.isEmpty()).isTrue();
    assertThat(metrics.errors.labelValues("deadline_exceeded").get()).isEqualTo(1.0);
  }

  @Test
  void aModelThisDeploymentDoesNotServeIsNotFoundAndKeptAsADeadLetter() {
    start();
    GenerationRequest other = request("other", "This License");
    other.setModel("gpt-4");
    GenerationRequest served = request("served", "This License");
    served.setModel("tiny-llama");
    send("other", other);
    send("served", served);

    GeneratedSequence error = generated.readValue();
    assertThat(error.getError().getCode()).isEqualTo("model_not_found");
    assertThat(error.getError().getMessage()).contains("'gpt-4'").contains("'tiny-llama'");
    assertThat(error.getModel()).isEqualTo("gpt-4");
    assertThat(tokenized.readKeyValue().key).isEqualTo("served");
    // Only a producer that bypasses the gateway can send it: its bug, kept with its bytes.
    DeadLetter letter = dlq.readValue();
    assertThat(letter.getRequestId()).isEqualTo("other");
    assertThat(letter.getReasonCode()).isEqualTo("invalid_value");
  }

  @Test
  void eachRequestGoesToItsModelsTopicTokenizedWithItsModelsTokenizer() {
    ModelTokenizers.Served gpt2 = TestTokenizers.served(TestModels.TINY_GPT2);
    start(List.of(LLAMA, gpt2), Map.of());
    TestOutputTopic<String, TokenizedRequest> gpt2Topic = harness.output(TOPICS.tokenized("tiny-gpt2"));
    GenerationRequest forGpt2 = request("for-gpt2", "This License applies to any program");
    forGpt2.setModel("tiny-gpt2");
    send("default", request("default", "This License applies to any program"));
    send("for-gpt2", forGpt2);

    TokenizedRequest first = tokenized.readValue();
    assertThat(first.getModel()).isEqualTo("tiny-llama");
    assertThat(first.getPromptTokenIds()).isEqualTo(LLAMA_IDS);
    assertThat(tokenized.isEmpty()).isTrue();
    TokenizedRequest second = gpt2Topic.readValue();
    assertThat(second.getModel()).isEqualTo("tiny-gpt2");
    assertThat(second.getPromptTokenIds()).isEqualTo(
        Arrays.stream(gpt2.tokenizer().encode("This License applies to any program")).boxed().toList());
    assertThat(generated.isEmpty()).isTrue();
  }

  @Test
  void aPromptAndCompletionLongerThanTheContextAreRefusedInOpenAisWords() {
    start();
    GenerationRequest tooLong = request("too-long", "This License applies to any program");
    tooLong.getParams().setMaxTokens(256 - LLAMA_IDS.size() + 1);
    GenerationRequest justFits = request("just-fits", "This License applies to any program");
    justFits.getParams().setMaxTokens(256 - LLAMA_IDS.size());
    send("too-long", tooLong);
    send("just-fits", justFits);

    GeneratedSequence error = generated.readValue();
    assertThat(error.getError().getCode()).isEqualTo("context_length_exceeded");
    assertThat(error.getError().getMessage()).isEqualTo("This model's maximum context length is 256 tokens. However,"
        + " you requested 257 tokens (8 in the prompt, 249 for the completion). Please reduce your prompt or"
        + " completion length.");
    assertThat(error.getRequest()).isEqualTo(tooLong);
    assertThat(tokenized.readKeyValue().key).isEqualTo("just-fits");
  }

  @Test
  void bytesThatAreNotAvroAreDeadLetteredAndThePartitionKeepsFlowing() {
    start();
    byte[] poison = AvroBytes.notAvro();
    requests.pipeInput("r-poison", poison, NOW.minusSeconds(5));
    send("r-good", request("r-good", "This License applies to any program"));

    assertThatLetter(dlq.readValue()).hasReason("not_avro").readFrom("generation.requests", 0)
        .writtenAt(NOW.minusSeconds(5)).carries("r-poison", poison);

    KeyValue<String, GeneratedSequence> error = generated.readKeyValue();
    assertThat(error.key).isEqualTo("r-poison");
    assertThat(error.value.getError().getCode()).isEqualTo("poison_record");
    assertThat(error.value.getRequest().getRequestId()).isEqualTo("r-poison");
    assertThat(error.value.getRequest().getCreatedAt()).isEqualTo(NOW.toEpochMilli());
    assertThat(error.value.getProducer()).isEqualTo("tokenizer-service@test-host");

    // The record after the poison one is processed as usual.
    KeyValue<String, TokenizedRequest> next = tokenized.readKeyValue();
    assertThat(next.key).isEqualTo("r-good");
    assertThat(next.value.getPromptTokenIds()).containsExactlyElementsOf(LLAMA_IDS);
    assertThat(metrics.deadLetters.labelValues("tokenizer-service", "not_avro").get()).isEqualTo(1.0);
  }

  @Test
  void aWriterSchemaThatWasNeverReleasedIsDeadLettered() {
    start();
    send("r-0", request("r-0", "This License"));
    byte[] poison = AvroBytes.unknownSchema(GenerationRequest.class);
    requests.pipeInput("r-unknown", poison);

    assertThatLetter(dlq.readValue()).hasReason("unknown_schema").readFrom("generation.requests", 1).carries(poison);
    assertThat(generated.readValue().getError().getCode()).isEqualTo("poison_record");
    assertThat(tokenized.readKeyValue().key).isEqualTo("r-0");
  }

  @Test
  void poisonWithoutAKeyIsOnlyDeadLettered() {
    start();
    requests.pipeInput("", AvroBytes.notAvro());
    requests.pipeInput((String) null, null);

    List<DeadLetter> letters = dlq.readValuesToList();
    assertThat(letters).extracting(DeadLetter::getReasonCode).containsExactly("not_avro", "not_avro");
    assertThat(letters).extracting(DeadLetter::getRequestId).containsOnlyNulls();
    assertThat(letters).extracting(DeadLetter::getSourceOffset).containsExactly(0L, 1L);
    assertThat(generated.isEmpty()).isTrue();
  }

  @Test
  void aFailureWhileProcessingIsDeadLetteredAndAnsweredAsAnInternalError() {
    TextTokenizer closed = TextTokenizer.load(LLAMA.model());
    closed.close(); // what a tokenizer released under a running stream thread would do
    start(List.of(new ModelTokenizers.Served(LLAMA.model(), closed)), Map.of());
    GenerationRequest request = request("r-1", "This License");
    send("r-1", request);

    DeadLetter letter = dlq.readValue();
    assertThat(letter.getReasonCode()).isEqualTo("processing_error");
    assertThat(letter.getRequestId()).isEqualTo("r-1");
    GeneratedSequence error = generated.readValue();
    assertThat(error.getError().getCode()).isEqualTo("internal_error");
    assertThat(error.getRequest()).isEqualTo(request);
    assertThat(tokenized.isEmpty()).isTrue();
  }

  private static GenerationRequest taskRequest(String id, String task, Map<String, String> fields) {
    GenerationRequest request = request(id, "");
    request.setTask(task);
    request.setTaskFields(fields);
    return request;
  }

  @Test
  void aNamedTaskIsRenderedWithItsFieldsAndTravelsOnWithItsDefaults() {
    start();
    GenerationRequest request = taskRequest("news-1", "news-summary",
        Map.of("title", "Seed vault opens", "source", "Sample Wire", "body", "The vault took its first seeds."));
    request.getParams().setTemperature(0.0);
    send("news-1", request);

    TokenizedRequest out = tokenized.readValue();
    String prompt = "Summarize the following news article in two or three sentences, for readers of a daily digest."
        + " Keep names, numbers and dates exact.\n\nTitle: Seed vault opens\nSource: Sample Wire\n\n"
        + "The vault took its first seeds.\n\nSummary:";
    assertThat(out.getPromptTokenIds()).containsExactlyElementsOf(
        java.util.Arrays.stream(LLAMA.tokenizer().encode(prompt)).boxed().toList());
    // The task's defaults fill what the request left at the contract's; what it set stays.
    assertThat(out.getRequest().getParams().getMaxTokens()).isEqualTo(96);
    assertThat(out.getRequest().getParams().getMinTokens()).isEqualTo(8);
    assertThat(out.getRequest().getParams().getTemperature()).isEqualTo(0.0);
    assertThat(out.getRequest().getTask()).isEqualTo("news-summary");
    assertThat(out.getRequest().getTaskFields()).isEqualTo(request.getTaskFields());
    assertThat(out.getRequest().getMetadata()).isEqualTo(Map.of("article", "42"));
    assertThat(out.getRequest().getPrompt()).isEmpty();
  }

  @Test
  void anUnknownTaskOrAMissingFieldIsDeadLetteredAndItsCallerTold() {
    start();
    send("poem", taskRequest("poem", "poem", Map.of("topic", "seeds")));
    send("no-body", taskRequest("no-body", "news-summary", Map.of("title", "T")));

    assertThat(dlq.readValuesToList()).extracting(DeadLetter::getReasonCode)
        .containsExactly("invalid_value", "invalid_value");
    List<GeneratedSequence> errors = generated.readValuesToList();
    assertThat(errors).extracting(e -> e.getError().getCode()).containsOnly("invalid_request");
    assertThat(errors.get(0).getError().getMessage()).startsWith("Invalid 'task': there is no task 'poem';");
    assertThat(errors.get(1).getError().getMessage())
        .isEqualTo("Invalid 'task_fields': the task 'news-summary' requires the field 'body'.");
    assertThat(tokenized.isEmpty()).isTrue();
  }

  @Test
  void theOperatorsTasksFileAddsTasks(@TempDir Path dir) throws java.io.IOException {
    Path file = dir.resolve("tasks.json");
    java.nio.file.Files.writeString(file, "{\"tasks\": {\"echo\": {\"template\": \"{{ text }}\","
        + " \"required\": [\"text\"], \"defaults\": {\"max_tokens\": 5}}}}");
    start(List.of(LLAMA), Map.of("AIGC_TASKS_FILE", file.toString()));
    send("e-1", taskRequest("e-1", "echo", Map.of("text", "This License applies to any program")));

    TokenizedRequest out = tokenized.readValue();
    assertThat(out.getPromptTokenIds()).containsExactlyElementsOf(LLAMA_IDS);
    assertThat(out.getRequest().getParams().getMaxTokens()).isEqualTo(5);
  }}
