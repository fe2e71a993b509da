package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigc.model.ModelDirectory;
import io.aigc.model.SamplingParams;
import io.aigc.model.testing.MovableClock;
import io.aigc.model.testing.TestModels;
import io.aigc.text.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GenerationEngineTest {
  static final List<String> PROMPTS = TestModels.PROMPTS;
  static final EngineSettings ROOMY = new EngineSettings(64, 256L << 20, 4096);

  /** An engine over one model, with what the tests observe of it. */
  static final class Harness implements AutoCloseable {
    final ModelDirectory dir;
    final OnnxModel model;
    /** A session of its own for {@link #alone}: a model is driven by one thread, and the engine's runs meanwhile. */
    final OnnxModel reference;
    final TextTokenizer tokenizer;
    final GenerationEngine engine;
    final AtomicInteger maxRowsPerStep = new AtomicInteger();
    final AtomicInteger maxGroupsPerStep = new AtomicInteger();
    final AtomicInteger maxPositions = new AtomicInteger();
    final AtomicInteger prefills = new AtomicInteger();
    final AtomicInteger steps = new AtomicInteger();
    final AtomicLong copied = new AtomicLong();
    final MovableClock clock = new MovableClock();
    volatile Runnable onStep = () -> {};

    Harness(Path modelDir, EngineSettings settings) throws Exception {
      dir = ModelDirectory.open(modelDir);
      OnnxModel.SessionSettings session = OnnxModel.SessionSettings.cpu().withThreads(1, false)
          .withPooledBytes(64L << 20);
      model = OnnxModel.open(dir, session);
      reference = OnnxModel.open(dir, session);
      tokenizer = TextTokenizer.load(dir);
      engine = new GenerationEngine(model, tokenizer, settings, new EngineMetrics() {
        @Override
        public void step(int rows, int groups, int positions, long nanos) {
          maxRowsPerStep.accumulateAndGet(rows, Math::max);
          maxPositions.accumulateAndGet(positions, Math::max);
          maxGroupsPerStep.accumulateAndGet(groups, Math::max);
          steps.incrementAndGet();
          onStep.run();
        }

        @Override
        public void prefill(int tokens, long nanos) {
          prefills.incrementAndGet();
        }

        @Override
        public void cacheCopied(long bytes) {
          copied.addAndGet(bytes);
        }
      }, clock);
    }

    CompletableFuture<GenerationOutcome> submit(String id, String prompt, SamplingParams params, Instant deadline) {
      CompletableFuture<GenerationOutcome> outcome = new CompletableFuture<>();
      engine.submit(new GenerationTask(id, tokenizer.encode(prompt), params, clock.instant(), deadline,
          GenerationListener.onFinished(outcome::complete)));
      return outcome;
    }

    int[] alone(String prompt, int maxTokens) throws Exception {
      return DirectDecoder.greedy(reference, List.of(tokenizer.encode(prompt)), maxTokens, true).get(0);
    }

    @Override
    public void close() {
      engine.close();
      tokenizer.close();
      model.close();
      reference.close();
    }
  }

  static GenerationOutcome get(CompletableFuture<GenerationOutcome> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2, TestModels.TINY_LLAMA_NOPOS,
      TestModels.TINY_GPT2_FP16})
  void greedyRequestsDecodedTogetherGetExactlyTheTokensTheyGetAlone(String name) throws Exception {
    try (Harness h = new Harness(TestModels.dir(name), ROOMY)) {
      List<int[]> alone = new ArrayList<>();
      for (String p : PROMPTS) {
        alone.add(h.alone(p, 40));
      }
      // Queued before the engine starts, so all of them are admitted into the first batch.
      List<CompletableFuture<GenerationOutcome>> together = new ArrayList<>();
      for (int i = 0; i < PROMPTS.size(); i++) {
        together.add(h.submit("r" + i, PROMPTS.get(i), SamplingParams.greedy(40), null));
      }
      h.engine.start();
      for (int i = 0; i < PROMPTS.size(); i++) {
        GenerationOutcome outcome = get(together.get(i));
        assertThat(outcome.isFailure()).isFalse();
        assertThat(outcome.choices().get(0).tokens()).as("prompt %d", i).isEqualTo(alone.get(i));
      }
      if (h.model.spec().hasPositionIds()) {
        // Prompts admitted together were prefilled together, left-padded: fewer ONNX runs than prompts.
        assertThat(h.prefills.get()).isLessThan(PROMPTS.size());
        assertThat(h.maxRowsPerStep.get()).isEqualTo(PROMPTS.size());
        assertThat(h.maxGroupsPerStep.get()).isEqualTo(1);
      } else {
        // Without position ids, only sequences of equal length share a run: several groups, one of two rows.
        assertThat(h.maxGroupsPerStep.get()).isGreaterThan(1);
      }
      await().until(() -> h.model.pool().inUseBytes() == 0);
    }
  }

  @Test
  void withoutPositionIdsOnlyPromptsOfOneLengthArePrefilledTogether() throws Exception {
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_GPT2), ROOMY)) {
      List<CompletableFuture<GenerationOutcome>> same = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        same.add(h.submit("same" + i, PROMPTS.get(0), SamplingParams.greedy(10), null));
      }
      CompletableFuture<GenerationOutcome> other = h.submit("other", PROMPTS.get(5), SamplingParams.greedy(10), null);
      h.engine.start();
      int[] alone = h.alone(PROMPTS.get(0), 10);
      for (CompletableFuture<GenerationOutcome> f : same) {
        assertThat(get(f).choices().get(0).tokens()).isEqualTo(alone);
      }
      assertThat(get(other).choices().get(0).tokens()).isEqualTo(h.alone(PROMPTS.get(5), 10));
      assertThat(h.prefills.get()).isEqualTo(2); // the three equal prompts in one run, the other alone
    }
  }

  @Test
  void requestsJoinAndLeaveARunningBatch(@TempDir Path tmp) throws Exception {
    try (Harness h = new Harness(endless(tmp), ROOMY)) {
      int[] longAlone = h.alone(PROMPTS.get(0), 200);
      List<int[]> shortAlone = new ArrayList<>();
      for (int i = 1; i < 5; i++) {
        shortAlone.add(h.alone(PROMPTS.get(i), 5));
      }
      AtomicInteger finished = new AtomicInteger();
      CompletableFuture<Integer> longOrder = h.submit("long", PROMPTS.get(0), SamplingParams.greedy(200), null)
          .thenApply(o -> finished.incrementAndGet());
      CompletableFuture<GenerationOutcome> longOne = h.submit("long-again", PROMPTS.get(0), SamplingParams.greedy(200), null);
      // Others arrive at the third decode step of the first two, join them, and finish long before them. The hook is
      // set before the engine starts: set after, a fast engine could pass its third step first and never call it.
      List<CompletableFuture<GenerationOutcome>> shorts = new ArrayList<>();
      List<CompletableFuture<Integer>> shortOrders = new ArrayList<>();
      for (int i = 1; i < 5; i++) {
        CompletableFuture<GenerationOutcome> f = new CompletableFuture<>();
        shorts.add(f);
        shortOrders.add(f.thenApply(o -> finished.incrementAndGet()));
      }
      h.onStep = () -> {
        if (h.steps.get() == 3) {
          for (int i = 1; i < 5; i++) {
            h.engine.submit(new GenerationTask("s" + i, h.tokenizer.encode(PROMPTS.get(i)), SamplingParams.greedy(5),
                h.clock.instant(), null, GenerationListener.onFinished(shorts.get(i - 1)::complete)));
          }
        }
      };
      h.engine.start();
      for (int i = 0; i < 4; i++) {
        assertThat(get(shorts.get(i)).choices().get(0).tokens()).isEqualTo(shortAlone.get(i));
        assertThat(shortOrders.get(i).get()).isLessThan(longOrder.get());
      }
      assertThat(get(longOne).choices().get(0).tokens()).isEqualTo(longAlone);
      assertThat(h.maxRowsPerStep.get()).isEqualTo(6);
    }
  }

  @Test
  void aNewcomerTakesOverAFinishedSequencesRowCopyingOnlyItsOwnCache(@TempDir Path tmp) throws Exception {
    try (Harness h = new Harness(endless(tmp), ROOMY)) {
      // Five sequences start together; one finishes early, leaving one row in five free (too few to rebuild).
      List<CompletableFuture<GenerationOutcome>> longOnes = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        longOnes.add(h.submit("long" + i, PROMPTS.get(i), SamplingParams.greedy(60), null));
      }
      CompletableFuture<GenerationOutcome> newcomer = new CompletableFuture<>();
      int[] newcomerPrompt = h.tokenizer.encode(PROMPTS.get(6));
      AtomicLong copiedBeforeNewcomer = new AtomicLong();
      CompletableFuture<GenerationOutcome> early = h.submit("early", PROMPTS.get(5), SamplingParams.greedy(4), null)
          .whenComplete((o, e) -> {
            // Runs on the engine thread as "early" finishes: the newcomer joins at the next admission.
            copiedBeforeNewcomer.set(h.copied.get());
            h.engine.submit(new GenerationTask("newcomer", newcomerPrompt, SamplingParams.greedy(20),
                h.clock.instant(), null, GenerationListener.onFinished(newcomer::complete)));
          });
      h.engine.start();
      assertThat(get(early).choices().get(0).tokens()).isEqualTo(h.alone(PROMPTS.get(5), 4));
      assertThat(get(newcomer).choices().get(0).tokens()).isEqualTo(h.alone(PROMPTS.get(6), 20));
      for (int i = 0; i < 4; i++) {
        assertThat(get(longOnes.get(i)).choices().get(0).tokens()).isEqualTo(h.alone(PROMPTS.get(i), 60));
      }
      // Joining copied the newcomer's prompt cache into the free row, not the five rows of the batch.
      long perToken = h.model.spec().kvBytesPerToken();
      assertThat(h.copied.get() - copiedBeforeNewcomer.get()).isEqualTo(newcomerPrompt.length * perToken);
      assertThat(h.maxRowsPerStep.get()).isEqualTo(5);
    }
  }

  @Test
  void aBatchWhoseRowsAreTakenOverInPlaceStillTrimsItsPadding(@TempDir Path tmp) throws Exception {
    // Four callers, each sending its next request as the previous one ends, for many generations of requests:
    // newcomers take finished rows over in place, and the batch must not grow a position per step forever.
    try (Harness h = new Harness(endless(tmp), ROOMY)) {
      h.engine.start();
      int[] prompt = h.tokenizer.encode(PROMPTS.get(1));
      int[] expected = h.alone(PROMPTS.get(1), 12);
      List<Thread> callers = new ArrayList<>();
      AtomicInteger wrong = new AtomicInteger();
      for (int c = 0; c < 4; c++) {
        int caller = c;
        Thread t = new Thread(() -> {
          for (int i = 0; i < 30; i++) {
            try {
              GenerationOutcome o = get(h.submit("c" + caller + "-" + i, PROMPTS.get(1), SamplingParams.greedy(12),
                  null));
              if (!Arrays.equals(o.choices().get(0).tokens(), expected)) {
                wrong.incrementAndGet();
              }
            } catch (Exception e) {
              wrong.incrementAndGet();
            }
          }
        });
        t.start();
        callers.add(t);
      }
      for (Thread t : callers) {
        t.join();
      }
      assertThat(wrong.get()).isZero();
      assertThat(h.steps.get()).isGreaterThan(300);
      // Without trimming, the batch would be about as long as the number of steps.
      assertThat(h.maxPositions.get())
          .isLessThanOrEqualTo(BatchGroup.paddedLengthLimit(prompt.length + 12) + 1);
    }
  }

  @Test
  void aSeededRequestDrawsTheSameTokensAloneAndInABatch() throws Exception {
    SamplingParams seeded = SamplingParams.builder().maxTokens(30).temperature(0.9).topP(0.95).topK(40)
        .seed(1234L).build();
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_LLAMA), ROOMY)) {
      h.engine.start();
      int[] alone = get(h.submit("alone", PROMPTS.get(0), seeded, null)).choices().get(0).tokens();

      List<CompletableFuture<GenerationOutcome>> others = new ArrayList<>();
      for (int i = 1; i < PROMPTS.size(); i++) {
        others.add(h.submit("o" + i, PROMPTS.get(i),
            SamplingParams.builder().maxTokens(30).temperature(1.2).seed((long) i).build(), null));
      }
      CompletableFuture<GenerationOutcome> batched = h.submit("batched", PROMPTS.get(0), seeded, null);
      assertThat(get(batched).choices().get(0).tokens()).isEqualTo(alone);
      for (CompletableFuture<GenerationOutcome> o : others) {
        assertThat(get(o).isFailure()).isFalse();
      }

      SamplingParams otherSeed = seeded.toBuilder().seed(99L).build();
      assertThat(get(h.submit("other", PROMPTS.get(0), otherSeed, null)).choices().get(0).tokens()).isNotEqualTo(alone);
    }
  }

  @Test
  void choicesOfOneRequestDifferAndAreReproducible() throws Exception {
    SamplingParams three = SamplingParams.builder().maxTokens(20).n(3).seed(5L).build();
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_GPT2), ROOMY)) {
      h.engine.start();
      GenerationOutcome first = get(h.submit("a", PROMPTS.get(1), three, null));
      GenerationOutcome again = get(h.submit("b", PROMPTS.get(1), three, null));
      assertThat(first.choices()).extracting(GenerationOutcome.Choice::index).containsExactly(0, 1, 2);
      assertThat(first.choices().get(0).tokens()).isNotEqualTo(first.choices().get(1).tokens());
      for (int i = 0; i < 3; i++) {
        assertThat(again.choices().get(i).tokens()).isEqualTo(first.choices().get(i).tokens());
      }
    }
  }

  @Test
  void endsAtMaxTokensAtAStopStringAndAtEndOfSequence(@TempDir Path tmp) throws Exception {
    try (Harness h = new Harness(endless(tmp), ROOMY)) {
      h.engine.start();
      int[] alone = h.alone(PROMPTS.get(0), 30);
      assertThat(alone).hasSize(30);

      GenerationOutcome limited = get(h.submit("len", PROMPTS.get(0), SamplingParams.greedy(7), null));
      assertThat(limited.choices().get(0).tokens()).isEqualTo(Arrays.copyOf(alone, 7));
      assertThat(limited.choices().get(0).finishReason()).isEqualTo(FinishReason.LENGTH);

      // Stop at a word the model is known to produce in the middle of its continuation.
      String text = h.tokenizer.continuation(h.tokenizer.encode(PROMPTS.get(0)), alone);
      String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
      GenerationOutcome stopped = get(h.submit("stop", PROMPTS.get(0),
          SamplingParams.greedy(30).toBuilder().stop(List.of("\u0000never", stop)).build(), null));
      int[] tokens = stopped.choices().get(0).tokens();
      assertThat(stopped.choices().get(0).finishReason()).isEqualTo(FinishReason.STOP);
      assertThat(tokens.length).isLessThan(30);
      assertThat(tokens).isEqualTo(Arrays.copyOf(alone, tokens.length));
      int[] prompt = h.tokenizer.encode(PROMPTS.get(0));
      assertThat(h.tokenizer.continuation(prompt, tokens)).contains(stop);
      // ...and it stopped at the first token that completed the stop string.
      assertThat(h.tokenizer.continuation(prompt, Arrays.copyOf(tokens, tokens.length - 1))).doesNotContain(stop);
    }

    // The same model, told that its fourth greedy token ends a sequence.
    int fourth;
    try (Harness h = new Harness(endless(tmp), ROOMY)) {
      fourth = h.alone(PROMPTS.get(0), 4)[3];
    }
    Path copy = modelCopy(tmp, TestModels.TINY_LLAMA, Map.of(), Map.of("eos_token_id", List.of(2, fourth)));
    try (Harness h = new Harness(copy, ROOMY)) {
      h.engine.start();
      GenerationOutcome eos = get(h.submit("eos", PROMPTS.get(0), SamplingParams.greedy(30), null));
      assertThat(eos.choices().get(0).finishReason()).isEqualTo(FinishReason.STOP);
      assertThat(eos.choices().get(0).tokens()).hasSize(3); // the end-of-sequence token is not part of the output

      // ignore_eos: generation runs on through it to max_tokens.
      GenerationOutcome through = get(h.submit("through", PROMPTS.get(0),
          SamplingParams.greedy(30).toBuilder().ignoreEos(true).build(), null));
      assertThat(through.choices().get(0).finishReason()).isEqualTo(FinishReason.LENGTH);
      assertThat(through.choices().get(0).tokens()).hasSize(30);
      assertThat(through.choices().get(0).tokens()[3]).isEqualTo(fourth);
    }
  }

  /** A copy of a test model whose config.json and generation_config.json get some keys replaced. */
  static Path modelCopy(Path tmp, String name, Map<String, Object> config,
      Map<String, Object> generation) throws Exception {
    Path source = TestModels.dir(name);
    Path copy = tmp.resolve(name + "-" + System.nanoTime());
    Files.createDirectories(copy);
    try (Stream<Path> files = Files.list(source)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    ObjectMapper json = new ObjectMapper();
    for (var edit : Map.of("config.json", config, "generation_config.json", generation).entrySet()) {
      ObjectNode node = (ObjectNode) json.readTree(copy.resolve(edit.getKey()).toFile());
      edit.getValue().forEach((k, v) -> node.set(k, json.valueToTree(v)));
      json.writeValue(copy.resolve(edit.getKey()).toFile(), node);
    }
    return copy;
  }

  /** tiny-llama without an end-of-sequence token: it always runs to max_tokens, which some tests rely on. */
  static Path endless(Path tmp) throws Exception {
    return modelCopy(tmp, TestModels.TINY_LLAMA, Map.of(), Map.of("eos_token_id", List.of()));
  }

  @Test
  void aRequestWhoseDeadlinePassedWhileWaitingIsNeverGenerated() throws Exception {
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_LLAMA), ROOMY)) {
      CompletableFuture<GenerationOutcome> late =
          h.submit("late", PROMPTS.get(0), SamplingParams.greedy(10), h.clock.instant().minusMillis(1));
      h.engine.start();
      GenerationOutcome outcome = get(late);
      assertThat(outcome.failure()).isEqualTo(Failure.DEADLINE_EXCEEDED);
      assertThat(h.prefills.get()).isZero();
    }
  }

  @Test
  void aRequestWhoseDeadlinePassesWhileRunningLeavesTheBatch(@TempDir Path tmp) throws Exception {
    try (Harness h = new Harness(endless(tmp), ROOMY)) {
      Instant deadline = h.clock.instant().plusSeconds(60);
      CompletableFuture<GenerationOutcome> doomed = h.submit("doomed", PROMPTS.get(0), SamplingParams.greedy(200), deadline);
      CompletableFuture<GenerationOutcome> fine = h.submit("fine", PROMPTS.get(1), SamplingParams.greedy(20), null);
      h.onStep = () -> {
        if (h.steps.get() == 5) {
          h.clock.advance(Duration.ofSeconds(61));
        }
      };
      h.engine.start();
      assertThat(get(doomed).failure()).isEqualTo(Failure.DEADLINE_EXCEEDED);
      assertThat(get(fine).choices().get(0).tokens()).isEqualTo(h.alone(PROMPTS.get(1), 20));
      await().until(() -> h.model.pool().inUseBytes() == 0);
    }
  }

  @Test
  void aCancelledRequestStopsWhetherWaitingOrRunning(@TempDir Path tmp) throws Exception {
    try (Harness h = new Harness(endless(tmp), new EngineSettings(1, 256L << 20, 4096))) {
      CompletableFuture<GenerationOutcome> running = h.submit("running", PROMPTS.get(0), SamplingParams.greedy(250), null);
      CompletableFuture<GenerationOutcome> waiting = h.submit("waiting", PROMPTS.get(1), SamplingParams.greedy(10), null);
      CompletableFuture<GenerationOutcome> abandoned = h.submit("abandoned", PROMPTS.get(2), SamplingParams.greedy(10), null);
      CompletableFuture<GenerationOutcome> last = h.submit("last", PROMPTS.get(3), SamplingParams.greedy(10), null);
      // Cancel at the second decode step, from the engine's own thread, so "running" is surely mid-generation.
      h.onStep = () -> {
        if (h.steps.get() == 2) {
          h.engine.cancel("waiting", true);
          h.engine.cancel("abandoned", false);
          h.engine.cancel("running", true);
        }
      };
      h.engine.start();
      assertThat(get(running).failure()).isEqualTo(Failure.CANCELLED);
      assertThat(get(waiting).failure()).isEqualTo(Failure.CANCELLED);
      assertThat(get(last).isFailure()).isFalse();
      assertThat(abandoned).isNotDone(); // dropped silently: its partition's new owner redoes it
      assertThat(h.engine.waitingRequests()).isZero();
    }
  }

  @Test
  void theKvBudgetBoundsTheBatchAndARequestThatCanNeverFitFailsAtOnce() throws Exception {
    Path dir = TestModels.dir(TestModels.TINY_LLAMA);
    long perToken;
    int promptLength;
    try (Harness probe = new Harness(dir, ROOMY)) {
      perToken = probe.model.spec().kvBytesPerToken();
      promptLength = probe.tokenizer.encode(PROMPTS.get(1)).length;
    }
    // Room for one request of this prompt and 10 tokens at a time, not two.
    long budget = perToken * (promptLength + 10) * 3 / 2;
    try (Harness h = new Harness(dir, new EngineSettings(64, budget, 4096))) {
      CompletableFuture<GenerationOutcome> huge = h.submit("huge", PROMPTS.get(1), SamplingParams.greedy(200), null);
      List<CompletableFuture<GenerationOutcome>> fitting = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fitting.add(h.submit("f" + i, PROMPTS.get(1), SamplingParams.greedy(10), null));
      }
      h.engine.start();
      GenerationOutcome rejected = get(huge);
      assertThat(rejected.failure()).isEqualTo(Failure.DOES_NOT_FIT);
      assertThat(rejected.message()).contains("KV cache");
      for (CompletableFuture<GenerationOutcome> f : fitting) {
        assertThat(get(f).choices().get(0).tokens()).hasSize(10);
      }
      assertThat(h.maxRowsPerStep.get()).isEqualTo(1);
    }
  }

  @Test
  void stopsAtTheContextLength(@TempDir Path tmp) throws Exception {
    Path small = modelCopy(tmp, TestModels.TINY_LLAMA, Map.of("max_position_embeddings", 40),
        Map.of("eos_token_id", List.of()));
    try (Harness h = new Harness(small, ROOMY)) {
      h.engine.start();
      int promptTokens = h.tokenizer.encode(PROMPTS.get(0)).length;
      GenerationOutcome outcome = get(h.submit("ctx", PROMPTS.get(0), SamplingParams.greedy(35), null));
      assertThat(outcome.choices().get(0).finishReason()).isEqualTo(FinishReason.LENGTH);
      assertThat(promptTokens + outcome.choices().get(0).tokens().length).isEqualTo(40);
    }
  }
}
