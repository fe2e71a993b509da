package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.model.SamplingParams;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scheduler over {@link FakeDecoderModel}: batched requests must get exactly the tokens they get alone, however
 * they join, leave and get compacted, and the batch must stay within its bounds. No ONNX Runtime, no sleeps: the
 * tests act from the engine's own step callbacks and listeners, and wait on futures.
 */
class GenerationEngineSchedulingTest {
  private static final EngineSettings ROOMY = new EngineSettings(64, 64L << 20, 4096);

  /** A decode step as {@link EngineMetrics#step} reports it. */
  record Step(int rows, int groups, int positions) {}

  /** Cache bytes copied to change the batch, and how many decode steps had run by then. */
  record Copy(int afterSteps, long bytes) {}

  /** An engine over a fake model, with what the tests observe of it. */
  static final class Engine implements AutoCloseable {
    final FakeDecoderModel model;
    /** The reference decoder's own model: the engine's is driven by the engine thread alone. */
    final FakeDecoderModel reference;
    final long perToken;
    final GenerationEngine engine;
    final List<Step> steps = new CopyOnWriteArrayList<>();
    final List<Copy> copies = new CopyOnWriteArrayList<>();
    volatile Runnable onStep = () -> {};

    Engine(ModelSpec spec, EngineSettings settings) {
      model = new FakeDecoderModel(spec);
      reference = new FakeDecoderModel(spec);
      perToken = spec.kvBytesPerToken();
      // No tokenizer: it is only read for stop strings, and these tests use none.
      engine = new GenerationEngine(model, null, settings, new EngineMetrics() {
        @Override
        public void step(int rows, int groups, int positions, long nanos) {
          steps.add(new Step(rows, groups, positions));
          onStep.run();
        }

        @Override
        public void cacheCopied(long bytes) {
          copies.add(new Copy(steps.size(), bytes));
        }
      }, Clock.systemUTC());
    }

    Engine(boolean positionIds) {
      this(FakeDecoderModel.spec(positionIds, 256, Set.of()), ROOMY);
    }

    CompletableFuture<GenerationOutcome> submit(String id, int[] prompt, SamplingParams params) {
      CompletableFuture<GenerationOutcome> outcome = new CompletableFuture<>();
      engine.submit(new GenerationTask(id, prompt, params, Clock.systemUTC().instant(), null,
          GenerationListener.onFinished(outcome::complete)));
      return outcome;
    }

    CompletableFuture<GenerationOutcome> submit(String id, int[] prompt, int maxTokens) {
      return submit(id, prompt, SamplingParams.greedy(maxTokens));
    }

    /** The tokens {@code prompt} gets decoded alone, with no scheduler. */
    int[] alone(int[] prompt, int maxTokens) throws Exception {
      return DirectDecoder.greedy(reference, List.of(prompt), maxTokens, true).get(0);
    }

    int prefills() {
      return (int) model.calls().stream().filter(c -> c.pastLength() == 0).count();
    }

    int maxRows() {
      return steps.stream().mapToInt(Step::rows).max().orElse(0);
    }

    /** Copies made after the first decode step: not the first batch's joins. */
    List<Copy> copiesWhileDecoding() {
      return copies.stream().filter(c -> c.afterSteps() > 0).toList();
    }

    /** Waits for the engine to give every cache back to the pool, as it must once no request runs. */
    void awaitEveryCacheReleased() {
      await().pollInterval(Duration.ofMillis(2)).until(() -> model.pool().inUseBytes() == 0);
    }

    /**
     * Stops the engine thread, so that what it reported is complete: a step is reported after the outcomes it
     * produced, so the last one may still be on its way when the last future completes.
     */
    void stop() {
      engine.close();
    }

    @Override
    public void close() {
      engine.close();
    }
  }

  /** A prompt of {@code length} tokens, different for every {@code seed}. */
  static int[] prompt(int seed, int length) {
    int[] tokens = new int[length];
    for (int i = 0; i < length; i++) {
      tokens[i] = (seed * 13 + i * 7 + 1) % FakeDecoderModel.VOCAB;
    }
    return tokens;
  }

  static GenerationOutcome get(CompletableFuture<GenerationOutcome> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  static int[] tokens(CompletableFuture<GenerationOutcome> f) throws Exception {
    GenerationOutcome outcome = get(f);
    assertThat(outcome.failure()).as("%s: %s", outcome.requestId(), outcome.message()).isNull();
    return outcome.choices().get(0).tokens();
  }

  @ParameterizedTest(name = "position ids: {0}")
  @ValueSource(booleans = {true, false})
  void greedyRequestsDecodedTogetherGetExactlyTheTokensTheyGetAlone(boolean positionIds) throws Exception {
    int[] lengths = {3, 7, 7, 12, 5, 20, 1, 9};
    int[] maxTokens = {30, 5, 18, 9, 40, 3, 25, 12};
    try (Engine e = new Engine(positionIds)) {
      // Queued before the engine starts, so all of them are admitted into the first batch.
      List<CompletableFuture<GenerationOutcome>> together = new ArrayList<>();
      for (int i = 0; i < lengths.length; i++) {
        together.add(e.submit("r" + i, prompt(i, lengths[i]), maxTokens[i]));
      }
      e.engine.start();
      for (int i = 0; i < lengths.length; i++) {
        assertThat(tokens(together.get(i))).as("request %d", i).isEqualTo(e.alone(prompt(i, lengths[i]), maxTokens[i]))
            .hasSize(maxTokens[i]);
      }
      e.awaitEveryCacheReleased();
      e.stop();
      assertThat(e.steps.get(0).rows()).isEqualTo(lengths.length);
      if (positionIds) {
        // One group; the prompts were prefilled in two left-padded runs ([1 .. 12] and [20]), not one each.
        assertThat(e.steps).allSatisfy(s -> assertThat(s.groups()).isEqualTo(1));
        assertThat(e.prefills()).isEqualTo(2);
      } else {
        // One group, and one prefill, per prompt length.
        assertThat(e.steps.get(0).groups()).isEqualTo(7);
        assertThat(e.prefills()).isEqualTo(7);
      }
    }
  }

  @ParameterizedTest(name = "position ids: {0}")
  @ValueSource(booleans = {true, false})
  void requestsArrivingMidwayJoinTheRunningBatchAndGetTheTokensTheyGetAlone(boolean positionIds) throws Exception {
    try (Engine e = new Engine(positionIds)) {
      AtomicInteger finished = new AtomicInteger();
      List<CompletableFuture<GenerationOutcome>> longOnes = new ArrayList<>();
      List<CompletableFuture<Integer>> longOrders = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        longOnes.add(e.submit("long" + i, prompt(i, 6), 60));
        longOrders.add(longOnes.get(i).thenApply(o -> finished.incrementAndGet()));
      }
      // They arrive at the third step, when the running rows hold 9 tokens: one newcomer as many, the others fewer
      // and more. Without position ids the one of 9 joins the running group; the others make groups of their own.
      int[] lengths = {2, 9, 4, 15};
      List<CompletableFuture<GenerationOutcome>> newcomers = new ArrayList<>();
      List<CompletableFuture<Integer>> newcomerOrders = new ArrayList<>();
      for (int i = 0; i < lengths.length; i++) {
        newcomers.add(new CompletableFuture<>());
        newcomerOrders.add(newcomers.get(i).thenApply(o -> finished.incrementAndGet()));
      }
      e.onStep = () -> {
        if (e.steps.size() == 3) {
          for (int i = 0; i < lengths.length; i++) {
            e.engine.submit(new GenerationTask("new" + i, prompt(10 + i, lengths[i]), SamplingParams.greedy(8),
                Clock.systemUTC().instant(), null, GenerationListener.onFinished(newcomers.get(i)::complete)));
          }
        }
      };
      e.engine.start();
      for (int i = 0; i < lengths.length; i++) {
        assertThat(tokens(newcomers.get(i))).as("newcomer %d", i).isEqualTo(e.alone(prompt(10 + i, lengths[i]), 8));
      }
      for (int i = 0; i < 2; i++) {
        assertThat(tokens(longOnes.get(i))).isEqualTo(e.alone(prompt(i, 6), 60));
      }
      e.awaitEveryCacheReleased();
      e.stop();
      // They joined at the very next step, and left long before the first two did.
      assertThat(e.steps.get(3)).isEqualTo(new Step(6, positionIds ? 1 : 4, 16));
      for (CompletableFuture<Integer> newcomer : newcomerOrders) {
        assertThat(newcomer.get()).isLessThanOrEqualTo(4);
      }
      assertThat(longOrders.get(0).get()).isGreaterThan(4);
    }
  }

  @Test
  void newcomersTakeOverFinishedRowsInPlaceCopyingOnlyTheirOwnCache() throws Exception {
    try (Engine e = new Engine(true)) {
      List<CompletableFuture<GenerationOutcome>> longOnes = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        longOnes.add(e.submit("long" + i, prompt(i, 10), 40));
      }
      // Two rows in five free up at the same step: more than a quarter, but each newcomer is already waiting when
      // its row is freed (the listener of the request it replaces sends it, on the engine thread), so they take the
      // rows over instead of the batch being rebuilt without them.
      int[][] newcomerPrompts = {prompt(8, 6), prompt(9, 10)};
      List<CompletableFuture<GenerationOutcome>> newcomers = List.of(new CompletableFuture<>(),
          new CompletableFuture<>());
      AtomicInteger copiesBefore = new AtomicInteger(-1);
      AtomicInteger copiesUntilANewcomerEnds = new AtomicInteger(-1);
      List<CompletableFuture<GenerationOutcome>> early = new ArrayList<>();
      for (int k = 0; k < 2; k++) {
        int newcomer = k;
        early.add(e.submit("early" + k, prompt(5 + k, 10), 4).whenComplete((o, x) -> {
          copiesBefore.compareAndSet(-1, e.copies.size());
          e.engine.submit(new GenerationTask("newcomer" + newcomer, newcomerPrompts[newcomer],
              SamplingParams.greedy(20), Clock.systemUTC().instant(), null, GenerationListener.onFinished(n -> {
                copiesUntilANewcomerEnds.compareAndSet(-1, e.copies.size());
                newcomers.get(newcomer).complete(n);
              })));
        }));
      }
      e.engine.start();
      for (int k = 0; k < 2; k++) {
        assertThat(tokens(early.get(k))).isEqualTo(e.alone(prompt(5 + k, 10), 4));
        assertThat(tokens(newcomers.get(k))).isEqualTo(e.alone(newcomerPrompts[k], 20));
      }
      for (int i = 0; i < 3; i++) {
        assertThat(tokens(longOnes.get(i))).isEqualTo(e.alone(prompt(i, 10), 40));
      }
      e.stop();
      // Joining copied each newcomer's prompt into a free row, and nothing else was copied meanwhile.
      assertThat(e.copies.subList(copiesBefore.get(), copiesUntilANewcomerEnds.get())).extracting(Copy::bytes)
          .containsExactly(6 * e.perToken, 10 * e.perToken);
      assertThat(e.maxRows()).isEqualTo(5);
      assertThat(e.steps).allSatisfy(s -> assertThat(s.groups()).isEqualTo(1));
    }
  }

  @Test
  void aFreeRowIsDecodedAsAnEmptyOneSoItNeverRunsPastTheContextWhileTheOthersGoOn() throws Exception {
    // The early request's row stays free (one in five, and within the padding limit) while the others run to the
    // context length. Had it kept its stale cache, it would reach the context 8 positions before them, and the
    // model would fail the whole batch.
    try (Engine e = new Engine(FakeDecoderModel.spec(true, 64, Set.of()), ROOMY)) {
      CompletableFuture<GenerationOutcome> early = e.submit("early", prompt(9, 38), 3);
      List<CompletableFuture<GenerationOutcome>> others = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        others.add(e.submit("r" + i, prompt(i, 30), 100));
      }
      e.engine.start();
      assertThat(tokens(early)).isEqualTo(e.alone(prompt(9, 38), 3));
      for (int i = 0; i < 4; i++) {
        GenerationOutcome.Choice choice = get(others.get(i)).choices().get(0);
        assertThat(choice.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(choice.tokens()).hasSize(64 - 30).isEqualTo(e.alone(prompt(i, 30), 100));
      }
      e.stop();
      assertThat(e.copiesWhileDecoding()).isEmpty();
    }
  }

  @Test
  void idleRowsAreCompactedAwayWhenMoreThanAQuarterFreeUpAndNobodyWaits() throws Exception {
    try (Engine e = new Engine(true)) {
      List<CompletableFuture<GenerationOutcome>> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        all.add(e.submit("r" + i, prompt(i, 4), i < 3 ? 2 : 30));
      }
      e.engine.start();
      for (int i = 0; i < 8; i++) {
        assertThat(tokens(all.get(i))).isEqualTo(e.alone(prompt(i, 4), i < 3 ? 2 : 30));
      }
      e.stop();
      // Three rows in eight finish at the first step: the five left, of 5 positions, are copied into a new batch.
      assertThat(e.copiesWhileDecoding()).containsExactly(new Copy(1, 5 * 5 * e.perToken));
      assertThat(e.steps.get(0)).isEqualTo(new Step(8, 1, 5));
      assertThat(e.steps.get(1)).isEqualTo(new Step(5, 1, 6));
      assertThat(e.model.calls().get(e.model.calls().size() - 1).rows()).isEqualTo(5);
    }
  }

  @Test
  void aBatchPaddedFarBeyondItsLongestRunningRowIsTrimmed() throws Exception {
    try (Engine e = new Engine(true)) {
      CompletableFuture<GenerationOutcome> longPrompt = e.submit("long-prompt", prompt(0, 40), 2);
      List<CompletableFuture<GenerationOutcome>> shortOnes = new ArrayList<>();
      for (int i = 1; i < 4; i++) {
        shortOnes.add(e.submit("short" + i, prompt(i, 2), 30));
      }
      e.engine.start();
      assertThat(tokens(longPrompt)).isEqualTo(e.alone(prompt(0, 40), 2));
      for (int i = 1; i < 4; i++) {
        assertThat(tokens(shortOnes.get(i - 1))).isEqualTo(e.alone(prompt(i, 2), 30));
      }
      e.stop();
      // The long prompt leaves after the first step; one row in four idle would be kept for a newcomer, but the
      // three left hold 3 tokens in 41 positions: they are copied into a batch of 3.
      assertThat(e.copiesWhileDecoding()).containsExactly(new Copy(1, 3 * 3 * e.perToken));
      assertThat(e.steps.subList(0, 3)).extracting(Step::positions).containsExactly(41, 4, 5);
    }
  }

  /**
   * A caller that sends the same request again as soon as the previous one ends, from its listener (on the engine
   * thread, so the next request is already waiting when the finished row is freed), and checks every outcome.
   */
  static final class RepeatingCaller implements GenerationListener {
    final CompletableFuture<Void> done = new CompletableFuture<>();
    final List<String> wrong = new CopyOnWriteArrayList<>();
    private final GenerationEngine engine;
    private final String name;
    private final int[] prompt;
    private final int maxTokens;
    private final int[] expected;
    private int remaining;

    RepeatingCaller(GenerationEngine engine, String name, int[] prompt, int maxTokens, int[] expected, int times) {
      this.engine = engine;
      this.name = name;
      this.prompt = prompt;
      this.maxTokens = maxTokens;
      this.expected = expected;
      this.remaining = times;
    }

    void sendNext() {
      engine.submit(new GenerationTask(name + "-" + remaining--, prompt, SamplingParams.greedy(maxTokens),
          Clock.systemUTC().instant(), null, this));
    }

    @Override
    public void finished(GenerationOutcome outcome) {
      if (outcome.isFailure() || !Arrays.equals(outcome.choices().get(0).tokens(), expected)) {
        wrong.add(outcome.requestId());
      }
      if (remaining > 0) {
        sendNext();
      } else {
        done.complete(null);
      }
    }
  }

  @Test
  void aBatchWhoseRowsAreTakenOverInPlaceStillTrimsItsPadding() throws Exception {
    // Four callers, twenty requests each, one after the other: newcomers take finished rows over in place, and the
    // batch must not grow a position per step forever.
    int promptLength = 5;
    try (Engine e = new Engine(true)) {
      List<RepeatingCaller> callers = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int maxTokens = 6 + c; // so that they finish at different steps, and rows free up one at a time
        int[] prompt = prompt(c, promptLength);
        callers.add(new RepeatingCaller(e.engine, "c" + c, prompt, maxTokens, e.alone(prompt, maxTokens), 20));
      }
      callers.forEach(RepeatingCaller::sendNext);
      e.engine.start();
      for (RepeatingCaller caller : callers) {
        caller.done.get(10, TimeUnit.SECONDS);
        assertThat(caller.wrong).isEmpty();
      }
      e.stop();
      int limit = BatchGroup.paddedLengthLimit(promptLength + 9);
      // Without trimming, the batch would be about as long as the number of steps.
      assertThat(e.steps.size()).isGreaterThan(4 * limit);
      assertThat(e.steps).allSatisfy(s -> assertThat(s.positions()).isLessThanOrEqualTo(limit + 1));
      // Newcomers took rows over in place (a copy of their prompt alone), and the batch was trimmed now and then.
      assertThat(e.copiesWhileDecoding()).extracting(Copy::bytes)
          .contains(promptLength * e.perToken)
          .anySatisfy(bytes -> assertThat(bytes).isGreaterThan(4 * promptLength * e.perToken));
    }
  }

  @Test
  void withoutPositionIdsAGroupIsRebuiltAsSoonAsARowFrees() throws Exception {
    try (Engine e = new Engine(false)) {
      List<CompletableFuture<GenerationOutcome>> all = new ArrayList<>();
      int[] maxTokens = {3, 10, 10};
      for (int i = 0; i < 3; i++) {
        all.add(e.submit("r" + i, prompt(i, 5), maxTokens[i]));
      }
      e.engine.start();
      for (int i = 0; i < 3; i++) {
        assertThat(tokens(all.get(i))).isEqualTo(e.alone(prompt(i, 5), maxTokens[i]));
      }
      e.stop();
      // The first leaves at the second step, one row in three: the two left, of 7 tokens, are copied at once.
      assertThat(e.copiesWhileDecoding()).containsExactly(new Copy(2, 2 * 7 * e.perToken));
      assertThat(e.steps.subList(0, 3)).extracting(Step::rows).containsExactly(3, 3, 2);
    }
  }

  @Test
  void theKvBudgetBoundsTheBatchAndARequestThatCanNeverFitFailsAtOnce() throws Exception {
    ModelSpec spec = FakeDecoderModel.spec(true, 256, Set.of());
    // Each request reserves 10 + 10 tokens: room for two at a time, not three.
    long budget = 50 * spec.kvBytesPerToken();
    try (Engine e = new Engine(spec, new EngineSettings(64, budget, 4096))) {
      CompletableFuture<GenerationOutcome> huge = e.submit("huge", prompt(9, 10), 100);
      List<CompletableFuture<GenerationOutcome>> fitting = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        fitting.add(e.submit("f" + i, prompt(i, 10), 10));
      }
      e.engine.start();
      assertThat(get(huge).failure()).isEqualTo(Failure.DOES_NOT_FIT);
      for (int i = 0; i < 5; i++) {
        assertThat(tokens(fitting.get(i))).isEqualTo(e.alone(prompt(i, 10), 10));
      }
      e.stop();
      assertThat(e.maxRows()).isEqualTo(2);
      assertThat(e.model.calls()).allSatisfy(c -> assertThat(c.rows()).isLessThanOrEqualTo(2));
    }
  }

  @Test
  void aFullBatchServesRequestsInArrivalOrderEvenWhenLaterOnesAreShorter() throws Exception {
    try (Engine e = new Engine(FakeDecoderModel.spec(true, 256, Set.of()), new EngineSettings(1, 64L << 20, 4096))) {
      List<Integer> finishedInOrder = new CopyOnWriteArrayList<>();
      List<CompletableFuture<GenerationOutcome>> all = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        int index = i;
        all.add(e.submit("r" + i, prompt(i, 8 - i), 12 - 2 * i));
        all.get(i).thenRun(() -> finishedInOrder.add(index));
      }
      e.engine.start();
      for (int i = 0; i < 5; i++) {
        assertThat(tokens(all.get(i))).isEqualTo(e.alone(prompt(i, 8 - i), 12 - 2 * i));
      }
      assertThat(finishedInOrder).containsExactly(0, 1, 2, 3, 4);
      e.stop();
      assertThat(e.maxRows()).isEqualTo(1);
    }
  }

  @Test
  void aSequenceEndsAtAnEndOfSequenceTokenWhileTheOthersRunOn() throws Exception {
    int[] stopping = prompt(0, 6);
    int eos;
    try (Engine probe = new Engine(true)) {
      eos = probe.alone(stopping, 20)[3];
    }
    try (Engine e = new Engine(FakeDecoderModel.spec(true, 256, Set.of(eos)), ROOMY)) {
      List<CompletableFuture<GenerationOutcome>> all = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        all.add(e.submit("r" + i, prompt(i, 6 + i), 20));
      }
      e.engine.start();
      GenerationOutcome.Choice first = get(all.get(0)).choices().get(0);
      assertThat(first.finishReason()).isEqualTo(FinishReason.STOP);
      assertThat(first.tokens()).hasSizeLessThanOrEqualTo(3).doesNotContain(eos);
      for (int i = 0; i < 4; i++) {
        assertThat(tokens(all.get(i))).isEqualTo(e.alone(prompt(i, 6 + i), 20));
      }
    }
  }

  @Test
  void aSeededRequestDrawsTheSameTokensAloneAndAmongOthers() throws Exception {
    SamplingParams seeded = SamplingParams.builder().maxTokens(25).temperature(1.0).n(2).seed(1234L).build();
    int[] seededPrompt = prompt(3, 7);
    try (Engine e = new Engine(true)) {
      e.engine.start();
      GenerationOutcome alone = get(e.submit("alone", seededPrompt, seeded));
      assertThat(alone.choices().get(0).tokens()).isNotEqualTo(alone.choices().get(1).tokens());
      assertThat(alone.choices().get(0).tokens()).isNotEqualTo(e.alone(seededPrompt, 25));

      List<CompletableFuture<GenerationOutcome>> others = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        others.add(e.submit("o" + i, prompt(i, 2 + 3 * i), 10 + 5 * i));
      }
      CompletableFuture<GenerationOutcome> batched = e.submit("batched", seededPrompt, seeded);
      assertThat(get(batched).choices()).isEqualTo(alone.choices());
      for (CompletableFuture<GenerationOutcome> o : others) {
        tokens(o);
      }
    }
  }

  @Test
  void aModelFailureFailsOnlyTheRequestsOfThatRunAndTheEngineCarriesOn() throws Exception {
    // Without position ids, prompts of three lengths make three prefills and (for those that get that far) groups.
    try (Engine e = new Engine(false)) {
      e.model.failWhen(call -> {
        boolean prefillOf13 = call.pastLength() == 0 && call.seqLen() == 13;
        boolean fourthStepOf5 = call.pastLength() == 5 + 3 && call.seqLen() == 1;
        if (prefillOf13 || fourthStepOf5) {
          throw new DecoderModel.ModelException("injected", null);
        }
      });
      CompletableFuture<GenerationOutcome> failsDecoding = e.submit("fails-decoding", prompt(0, 5), 20);
      CompletableFuture<GenerationOutcome> failsPrefill = e.submit("fails-prefill", prompt(1, 13), 20);
      CompletableFuture<GenerationOutcome> fine = e.submit("fine", prompt(2, 20), 20);
      e.engine.start();
      assertThat(get(failsDecoding).failure()).isEqualTo(Failure.MODEL_FAILED);
      assertThat(get(failsPrefill).failure()).isEqualTo(Failure.MODEL_FAILED);
      assertThat(tokens(fine)).isEqualTo(e.alone(prompt(2, 20), 20));
      // The failure was transient: the engine goes on serving.
      e.model.failWhen(call -> {});
      assertThat(tokens(e.submit("after", prompt(3, 5), 10))).isEqualTo(e.alone(prompt(3, 5), 10));
      e.awaitEveryCacheReleased();
    }
  }

  @Test
  void aBugInTheMiddleOfAStepFailsWhatRunsAndTheEngineServesWhatWaits() throws Exception {
    // One row: the second request waits while the first runs into an unexpected exception at its third step.
    try (Engine e = new Engine(FakeDecoderModel.spec(true, 256, Set.of()), new EngineSettings(1, 64L << 20, 4096))) {
      e.model.failWhen(call -> {
        if (call.pastLength() == 6 + 2) {
          throw new IllegalStateException("injected");
        }
      });
      CompletableFuture<GenerationOutcome> running = e.submit("running", prompt(0, 6), 20);
      CompletableFuture<GenerationOutcome> waiting = e.submit("waiting", prompt(1, 3), 4);
      e.engine.start();
      assertThat(get(running).failure()).isEqualTo(Failure.MODEL_FAILED);
      assertThat(tokens(waiting)).isEqualTo(e.alone(prompt(1, 3), 4));
      e.awaitEveryCacheReleased();
    }
  }
}
