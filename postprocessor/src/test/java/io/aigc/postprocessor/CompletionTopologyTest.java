package io.aigc.postprocessor;

import static io.aigc.runtime.streams.testing.DeadLetterAssert.assertThatLetter;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.aigc.runtime.Env;
import io.aigc.text.ModelTokenizers;
import io.aigc.text.TextTokenizer;
import io.aigc.schemas.testing.AvroBytes;
import io.aigc.runtime.streams.testing.TopologyHarness;
import io.aigc.model.testing.TestModels;
import io.aigc.text.testing.TestTokenizers;
import io.aigc.schemas.Completion;
import io.aigc.schemas.ChatMessage;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.Events;
import io.aigc.schemas.GeneratedChoice;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Timings;
import io.aigc.schemas.TextLogprob;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.TokenLogprob;
import io.aigc.schemas.TokenLogprobs;
import io.aigc.schemas.Topics;
import io.aigc.schemas.Usage;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompletionTopologyTest {
  private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
  private static final Instant CREATED = NOW.minusMillis(1500);
  private static final Topics TOPICS = Topics.defaults();
  /** tiny-llama: BOS ▁This ▁License, then ▁appl ies ▁to ▁any ▁program. */
  private static final List<Integer> PROMPT = List.of(1, 752, 400);
  private static final List<Integer> APPLIES_TO_ANY_PROGRAM = List.of(727, 555, 370, 428, 561);
  private static final int EOS = 2;

  private static final ModelTokenizers.Served LLAMA = TestTokenizers.served(TestModels.TINY_LLAMA);

  @TempDir
  Path stateDir;
  @AutoClose
  private TopologyHarness harness;
  private PostprocessorMetrics metrics;
  private TestInputTopic<String, byte[]> generated;
  private TestOutputTopic<String, Completion> completions;
  private TestOutputTopic<String, DeadLetter> dlq;

  private void start(List<ModelTokenizers.Served> models, Map<String, String> vars) {
    Map<String, String> env = TestTokenizers.env(models, vars);
    PostprocessorConfig config = PostprocessorConfig.fromEnv(Env.of(env));
    metrics = new PostprocessorMetrics(new PrometheusRegistry());
    harness = TopologyHarness.start(CompletionTopology.build(config, models, metrics), stateDir, NOW);
    generated = harness.input(TOPICS.generated());
    completions = harness.output(TOPICS.completions());
    dlq = harness.output(TOPICS.dlq());
  }

  private void start() {
    start(List.of(LLAMA), Map.of());
  }

  private static GenerationRequest request(String id, List<String> stop) {
    return RequestSpec.builder().prompt("This License").sampling(s -> s.maxTokens(6).n(2).stop(stop))
        .metadata(Map.of("article", "42")).build().toEvent(id, CREATED, null);
  }

  private static GeneratedSequence ok(String id, List<String> stop, GeneratedChoice... choices) {
    GenerationRequest request = request(id, stop);
    request.getParams().setN(choices.length); // the worker always writes one choice per n
    return GeneratedSequence.newBuilder()
        .setRequest(request)
        .setModel("tiny-llama")
        .setPromptTokenIds(PROMPT)
        .setStatus(CompletionStatus.OK)
        .setError(null)
        .setChoices(List.of(choices))
        .setTimings(new Timings(3L, 40L, 120L))
        .setProducer("worker-1")
        .build();
  }

  private static GeneratedChoice choice(int index, List<Integer> ids, String finishReason) {
    return new GeneratedChoice(index, ids, finishReason, null);
  }

  private void send(String key, GeneratedSequence sequence) {
    generated.pipeInput(key, TOPICS.generated().valueSerde().encode(sequence));
  }

  @Test
  void logprobsComeWithTheTextEachTokenAddsWhereItStands() {
    start();
    GeneratedChoice choice = choice(0, APPLIES_TO_ANY_PROGRAM.subList(0, 3), "length");
    List<TokenLogprobs> logprobs = new ArrayList<>();
    for (int token : APPLIES_TO_ANY_PROGRAM.subList(0, 3)) {
      logprobs.add(new TokenLogprobs(token, -0.5, List.of(new TokenLogprob(token, -0.5), new TokenLogprob(EOS, -2.0))));
    }
    choice.setLogprobs(logprobs);
    generated.pipeInput("r-lp", TOPICS.generated().valueSerde().encode(ok("r-lp", List.of(), choice)));

    Completion completion = completions.readValue();
    List<TextLogprobs> out = completion.getChoices().get(0).getLogprobs();
    // ▁appl ies ▁to: the leading spaces are kept, and the texts join into the choice's text here.
    assertThat(out).extracting(TextLogprobs::getToken).containsExactly(" appl", "ies", " to");
    assertThat(String.join("", out.stream().map(TextLogprobs::getToken).toList()))
        .isEqualTo(completion.getChoices().get(0).getText());
    assertThat(out.get(0).getLogprob()).isEqualTo(-0.5);
    assertThat(out.get(1).getTop()).extracting(TextLogprob::getToken).containsExactly("ies", "");
  }

  @Test
  void logprobsThatDoNotMatchTheTokensAreDeadLettered() {
    start();
    GeneratedChoice choice = choice(0, APPLIES_TO_ANY_PROGRAM.subList(0, 3), "length");
    choice.setLogprobs(List.of(new TokenLogprobs(727, -0.5, List.of())));
    generated.pipeInput("r-bad", TOPICS.generated().valueSerde().encode(ok("r-bad", List.of(), choice)));

    assertThat(dlq.readValue().getReason()).contains("3 tokens but 1 logprobs");
    assertThat(completions.readValue().getError().getCode()).isEqualTo("poison_record");
  }

  @Test
  void detokenizesAsAContinuationKeepingTheLeadingSpace() {
    start();
    send("r-1", ok("r-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    KeyValue<String, Completion> out = completions.readKeyValue();
    assertThat(out.key).isEqualTo("r-1");
    Completion completion = out.value;
    assertThat(completion.getRequestId()).isEqualTo("r-1");
    assertThat(completion.getStatus()).isEqualTo(CompletionStatus.OK);
    assertThat(completion.getError()).isNull();
    assertThat(completion.getChoices()).containsExactly(new CompletionChoice(0, " applies to any program", "length", null));
    assertThat(completion.getModel()).isEqualTo("tiny-llama");
    assertThat(completion.getCreatedAt()).isEqualTo(CREATED.toEpochMilli());
    assertThat(completion.getCompletedAt()).isEqualTo(NOW.toEpochMilli());
    assertThat(completion.getUsage()).isEqualTo(new Usage(3, 5, 8));
    assertThat(completion.getTimings()).isEqualTo(new Timings(3L, 40L, 120L));
    assertThat(completion.getMetadata()).containsExactly(Map.entry("article", "42"));
    assertThat(metrics.completions.labelValues("OK").get()).isEqualTo(1.0);
    assertThat(metrics.latency.collect().getDataPoints().get(0).getSum()).isEqualTo(1.5);
    assertThat(dlq.isEmpty()).isTrue();
  }

  @Test
  void theEndOfSequenceTokenIsNotText() {
    start();
    send("r-1", ok("r-1", List.of(), choice(0, List.of(727, 555, EOS), "stop")));

    Completion completion = completions.readValue();
    assertThat(completion.getChoices()).containsExactly(new CompletionChoice(0, " applies", "stop", null));
    assertThat(completion.getUsage()).isEqualTo(new Usage(3, 3, 6));
  }

  @Test
  void aGpt2ContinuationKeepsItsSpaceToo() {
    ModelTokenizers.Served gpt2 = TestTokenizers.served(TestModels.TINY_GPT2);
    start(List.of(gpt2), Map.of());
    GeneratedSequence sequence = ok("r-1", List.of(), choice(0, List.of(639, 467, 285, 342, 471), "length"));
    sequence.setModel("tiny-gpt2");
    sequence.setPromptTokenIds(List.of(895, 315)); // This ĠLicense
    send("r-1", sequence);

    assertThat(completions.readValue().getChoices())
        .containsExactly(new CompletionChoice(0, " applies to any program", "length", null));
  }

  @Test
  void eachSequenceIsReadWithItsOwnModelsTokenizerAndAnUnservedModelIsADeadLetter() {
    ModelTokenizers.Served gpt2 = TestTokenizers.served(TestModels.TINY_GPT2);
    start(List.of(LLAMA, gpt2), Map.of());
    GeneratedSequence forGpt2 = ok("gpt2", List.of(), choice(0, List.of(639, 467, 285, 342, 471), "length"));
    forGpt2.setModel("tiny-gpt2");
    forGpt2.setPromptTokenIds(List.of(895, 315)); // This ĠLicense
    send("gpt2", forGpt2);
    send("llama", ok("llama", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));
    GeneratedSequence unserved = ok("unserved", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length"));
    unserved.setModel("gpt-4");
    send("unserved", unserved);

    Completion first = completions.readValue();
    assertThat(first.getModel()).isEqualTo("tiny-gpt2");
    assertThat(first.getChoices()).extracting(CompletionChoice::getText).containsExactly(" applies to any program");
    Completion second = completions.readValue();
    assertThat(second.getModel()).isEqualTo("tiny-llama");
    assertThat(second.getChoices()).extracting(CompletionChoice::getText).containsExactly(" applies to any program");
    Completion third = completions.readValue();
    assertThat(third.getStatus()).isEqualTo(CompletionStatus.ERROR);
    assertThat(third.getError().getMessage()).contains("'gpt-4' is not served");
    assertThat(dlq.readValue().getRequestId()).isEqualTo("unserved");
  }

  @Test
  void theEarliestStopStringInTheTextCutsItWhateverItsPlaceInTheList() {
    start();
    // " applies to any program": "to" starts at 9, " any" at 12; the list names " any" first.
    send("r-1", ok("r-1", List.of(" any", "to"), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    Completion completion = completions.readValue();
    assertThat(completion.getChoices()).containsExactly(new CompletionChoice(0, " applies ", "stop", null));
    // Usage counts what was generated, not what was kept.
    assertThat(completion.getUsage()).isEqualTo(new Usage(3, 5, 8));
  }

  @Test
  void severalChoicesComeSortedByIndexEachCutOnItsOwn() {
    start();
    send("r-1", ok("r-1", List.of(" program"),
        choice(1, List.of(727, 555, 370), "length"),
        choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    Completion completion = completions.readValue();
    assertThat(completion.getChoices()).containsExactly(
        new CompletionChoice(0, " applies to any", "stop", null),
        new CompletionChoice(1, " applies to", "length", null));
    assertThat(completion.getUsage()).isEqualTo(new Usage(3, 8, 11));
  }

  @Test
  void aDuplicateRequestIdGetsNoSecondCompletion() {
    start();
    GeneratedSequence first = ok("r-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length"));
    send("r-1", first);
    send("r-1", ok("r-1", List.of(), choice(0, List.of(727), "length")));
    send("r-1", first);

    List<Completion> all = completions.readValuesToList();
    assertThat(all).hasSize(1);
    assertThat(all.get(0).getChoices().get(0).getText()).isEqualTo(" applies to any program");
    assertThat(metrics.duplicates.get()).isEqualTo(2.0);
    assertThat(dlq.isEmpty()).isTrue();
    // What lets the dedup survive a crash: the store writes through to its changelog topic.
    assertThat(harness.driver().producedTopicNames()).contains("topology-test-completed-requests-changelog");
  }

  @Test
  void anErrorFromAnEarlierStageIsPassedOnAndWinsOverALateResult() {
    start();
    GenerationRequest request = request("r-1", List.of());
    send("r-1", Events.failed(request, "tiny-llama", List.of(), "context_length_exceeded",
        "This model's maximum context length is 256 tokens.", "tokenizer-service@host"));
    send("r-1", ok("r-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    List<Completion> all = completions.readValuesToList();
    assertThat(all).hasSize(1);
    Completion completion = all.get(0);
    assertThat(completion.getStatus()).isEqualTo(CompletionStatus.ERROR);
    assertThat(completion.getError().getCode()).isEqualTo("context_length_exceeded");
    assertThat(completion.getError().getMessage()).isEqualTo("This model's maximum context length is 256 tokens.");
    assertThat(completion.getMetadata()).containsExactly(Map.entry("article", "42"));
    assertThat(completion.getModel()).isEqualTo("tiny-llama");
    assertThat(completion.getCreatedAt()).isEqualTo(CREATED.toEpochMilli());
    assertThat(completion.getCompletedAt()).isEqualTo(NOW.toEpochMilli());
    assertThat(completion.getChoices()).isEmpty();
    assertThat(completion.getUsage()).isNull();
    assertThat(metrics.completions.labelValues("ERROR").get()).isEqualTo(1.0);
    assertThat(metrics.duplicates.get()).isEqualTo(1.0);
  }

  @Test
  void aCompletedIdIsForgottenAfterTheRetentionByTheWallClock() {
    start(List.of(LLAMA), Map.of("AIGC_DEDUP_RETENTION", "1h", "AIGC_DEDUP_PURGE_INTERVAL", "1m"));
    KeyValueStore<String, Long> store = harness.driver().getKeyValueStore(CompletionTopology.COMPLETED_STORE);
    GeneratedSequence sequence = ok("r-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length"));
    send("r-1", sequence);
    assertThat(store.get("r-1")).isEqualTo(NOW.toEpochMilli());

    // Within the retention the id is still known, punctuations or not.
    harness.driver().advanceWallClockTime(Duration.ofMinutes(59));
    send("r-1", sequence);
    assertThat(store.get("r-1")).isNotNull();
    assertThat(completions.readValuesToList()).hasSize(1);

    // Past it (and the next purge), it is gone: a duplicate this late is answered again.
    harness.driver().advanceWallClockTime(Duration.ofMinutes(2));
    assertThat(store.get("r-1")).isNull();
    send("r-1", sequence);
    assertThat(completions.readValuesToList()).hasSize(1);
  }

  @Test
  void bytesThatAreNotAvroAreDeadLetteredAnsweredOnceAndThePartitionKeepsFlowing() {
    start();
    byte[] poison = AvroBytes.notAvro();
    generated.pipeInput("r-poison", poison, NOW.minusSeconds(5));
    send("r-poison", ok("r-poison", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));
    send("r-good", ok("r-good", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    assertThatLetter(dlq.readValue()).hasReason("not_avro").readFrom("generation.generated", 0)
        .writtenAt(NOW.minusSeconds(5)).carries("r-poison", poison).by("postprocessor");

    List<KeyValue<String, Completion>> all = completions.readKeyValuesToList();
    // The poison's error is the one answer for its id; the result that follows for it is a duplicate.
    assertThat(all).extracting(kv -> kv.key).containsExactly("r-poison", "r-good");
    Completion error = all.get(0).value;
    assertThat(error.getStatus()).isEqualTo(CompletionStatus.ERROR);
    assertThat(error.getError().getCode()).isEqualTo("poison_record");
    assertThat(error.getRequestId()).isEqualTo("r-poison");
    assertThat(error.getCompletedAt()).isEqualTo(NOW.toEpochMilli());
    assertThat(all.get(1).value.getStatus()).isEqualTo(CompletionStatus.OK);
    assertThat(metrics.deadLetters.labelValues("postprocessor", "not_avro").get()).isEqualTo(1.0);
  }

  @Test
  void aWriterSchemaThatWasNeverReleasedIsDeadLettered() {
    start();
    send("r-0", ok("r-0", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));
    byte[] poison = AvroBytes.unknownSchema(GeneratedSequence.class);
    generated.pipeInput("r-unknown", poison);

    assertThatLetter(dlq.readValue()).hasReason("unknown_schema").readFrom("generation.generated", 1).carries(poison);
    assertThat(completions.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("r-0", "r-unknown");
  }

  @Test
  void poisonForAnAnsweredIdIsDeadLetteredWithoutASecondCompletion() {
    start();
    send("r-1", ok("r-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));
    generated.pipeInput("r-1", AvroBytes.notAvro());

    assertThat(dlq.readValue().getRequestId()).isEqualTo("r-1");
    assertThat(completions.readValuesToList()).hasSize(1);
  }

  @Test
  void valuesNoWorkerWritesAreDeadLetteredAsInvalidAndThePartitionKeepsFlowing() {
    start();
    send("r-vocab", ok("r-vocab", List.of(), choice(0, List.of(5, 99_999), "length")));
    send("r-reason", ok("r-reason", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "because")));
    GeneratedSequence missing = ok("r-missing", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length"));
    missing.getRequest().getParams().setN(2);
    send("r-missing", missing);
    send("r-good", ok("r-good", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    List<DeadLetter> letters = dlq.readValuesToList();
    assertThat(letters).extracting(DeadLetter::getReasonCode).containsOnly("invalid_value");
    assertThat(letters).extracting(DeadLetter::getRequestId).containsExactly("r-vocab", "r-reason", "r-missing");
    assertThat(letters.get(0).getReason()).contains("token id 99999 is outside the vocabulary [0, 1024)");
    assertThat(letters.get(1).getReason()).contains("finish_reason must be stop or length");
    assertThat(letters.get(2).getReason()).contains("expected 2 choices, got 1");

    List<KeyValue<String, Completion>> all = completions.readKeyValuesToList();
    assertThat(all).extracting(kv -> kv.key).containsExactly("r-vocab", "r-reason", "r-missing", "r-good");
    assertThat(all.subList(0, 3)).extracting(kv -> kv.value.getError().getCode()).containsOnly("poison_record");
    assertThat(all.get(3).value.getStatus()).isEqualTo(CompletionStatus.OK);
  }

  @Test
  void poisonWithoutAKeyIsOnlyDeadLettered() {
    start();
    generated.pipeInput("", AvroBytes.notAvro());
    generated.pipeInput((String) null, null);

    List<DeadLetter> letters = dlq.readValuesToList();
    assertThat(letters).extracting(DeadLetter::getReasonCode).containsExactly("not_avro", "not_avro");
    assertThat(letters).extracting(DeadLetter::getRequestId).containsOnlyNulls();
    assertThat(completions.isEmpty()).isTrue();
  }

  @Test
  void aCompletionNamesTheTaskOfItsRequestAndKeepsItsMetadata() {
    start();
    GeneratedSequence task = ok("news-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length"));
    task.getRequest().setPrompt("");
    task.getRequest().setTask("news-summary");
    task.getRequest().setTaskFields(Map.of("title", "T", "body", "B"));
    send("news-1", task);
    send("plain", ok("plain", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    List<Completion> out = completions.readValuesToList();
    assertThat(out).extracting(Completion::getTask).containsExactly("news-summary", null);
    assertThat(out.get(0).getMetadata()).containsExactly(Map.entry("article", "42"));
  }

  @Test
  void aCompletionSaysWhetherItsRequestWasAChatEvenWhenItFailed() {
    start();
    GeneratedSequence chat = ok("chat-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length"));
    chat.getRequest().setPrompt("");
    chat.getRequest().setMessages(List.of(new ChatMessage("user", "Hi")));
    send("chat-1", chat);
    send("plain-1", ok("plain-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));
    GenerationRequest failedChat = request("chat-2", List.of());
    failedChat.setPrompt("");
    failedChat.setMessages(List.of(new ChatMessage("user", "Hi")));
    send("chat-2", Events.failed(failedChat, "tiny-llama", List.of(), "deadline_exceeded", "late", "worker-1"));

    assertThat(completions.readValuesToList()).extracting(Completion::getRequestId, Completion::getChat)
        .containsExactly(tuple("chat-1", true), tuple("plain-1", false), tuple("chat-2", true));
  }

  @Test
  void aReadableSequenceWithoutAKeyIsDeadLetteredAndAnsweredUnderItsRequestId() {
    start();
    generated.pipeInput((String) null, TOPICS.generated().valueSerde().encode(
        ok("r-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length"))));

    DeadLetter letter = dlq.readValue();
    assertThat(letter.getReasonCode()).isEqualTo("invalid_value");
    KeyValue<String, Completion> error = completions.readKeyValue();
    assertThat(error.key).isEqualTo("r-1");
    assertThat(error.value.getError().getCode()).isEqualTo("poison_record");
    assertThat(error.value.getMetadata()).containsExactly(Map.entry("article", "42"));
  }

  @Test
  void aFailureWhileDetokenizingIsDeadLetteredAndAnsweredAsAnInternalError() {
    TextTokenizer closed = TextTokenizer.load(LLAMA.model());
    closed.close(); // what a tokenizer released under a running stream thread would do
    start(List.of(new ModelTokenizers.Served(LLAMA.model(), closed)), Map.of());
    send("r-1", ok("r-1", List.of(), choice(0, APPLIES_TO_ANY_PROGRAM, "length")));

    DeadLetter letter = dlq.readValue();
    assertThat(letter.getReasonCode()).isEqualTo("processing_error");
    assertThat(letter.getRequestId()).isEqualTo("r-1");
    Completion error = completions.readValue();
    assertThat(error.getStatus()).isEqualTo(CompletionStatus.ERROR);
    assertThat(error.getError().getCode()).isEqualTo("internal_error");
    assertThat(error.getMetadata()).containsExactly(Map.entry("article", "42"));
    assertThat(error.getCreatedAt()).isEqualTo(CREATED.toEpochMilli());
    assertThat(completions.isEmpty()).isTrue();
  }}
