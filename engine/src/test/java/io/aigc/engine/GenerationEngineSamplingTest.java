package io.aigc.engine;

import static io.aigc.engine.GenerationEngineTest.PROMPTS;
import static io.aigc.engine.GenerationEngineTest.ROOMY;
import static io.aigc.engine.GenerationEngineTest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.aigc.engine.GenerationEngineTest.Harness;
import io.aigc.model.SamplingParams;
import io.aigc.model.testing.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sampling options on a real model: what they do, and that the batch never changes a request's tokens. */
class GenerationEngineSamplingTest {
  private static final SamplingParams PENALIZED = SamplingParams.greedy(30).toBuilder().repetitionPenalty(1.3)
      .presencePenalty(0.4).frequencyPenalty(0.6).build();

  /** A request whose listener records every step of every choice, as a streaming caller sees them. */
  private record Streamed(CompletableFuture<GenerationOutcome> outcome, List<List<TokenStep>> steps) {}

  private static Streamed stream(Harness h, String id, String prompt, SamplingParams params) {
    CompletableFuture<GenerationOutcome> outcome = new CompletableFuture<>();
    List<List<TokenStep>> steps = new ArrayList<>();
    for (int i = 0; i < params.n(); i++) {
      steps.add(new CopyOnWriteArrayList<>());
    }
    h.engine.submit(new GenerationTask(id, h.tokenizer.encode(prompt), params, h.clock.instant(), null,
        new GenerationListener() {
          @Override
          public void tokens(int choice, TokenStep step) {
            steps.get(choice).add(step);
          }

          @Override
          public void finished(GenerationOutcome o) {
            outcome.complete(o);
          }
        }));
    return new Streamed(outcome, steps);
  }

  private static int[] tokens(CompletableFuture<GenerationOutcome> f) throws Exception {
    GenerationOutcome o = get(f);
    assertThat(o.isFailure()).as("%s", o.message()).isFalse();
    return o.choices().get(0).tokens();
  }

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2_FP16})
  void aSeededRequestWithEveryOptionDrawsTheSameTokensAloneAndInABatch(String model) throws Exception {
    SamplingParams seeded = SamplingParams.builder().maxTokens(30).temperature(0.9).topK(50).topP(0.95).minP(0.02)
        .presencePenalty(0.5).frequencyPenalty(0.3).repetitionPenalty(1.2).logitBias(Map.of(17, 2.0, 40, -3.0))
        .seed(77L).logprobs(3).build();
    try (Harness h = new Harness(TestModels.dir(model), ROOMY)) {
      h.engine.start();
      GenerationOutcome alone = get(h.submit("alone", PROMPTS.get(0), seeded, null));

      // The same request among others of every kind, prefilled and decoded together.
      List<CompletableFuture<GenerationOutcome>> others = new ArrayList<>();
      for (int i = 1; i < PROMPTS.size(); i++) {
        SamplingParams other = i % 2 == 0 ? PENALIZED
            : seeded.toBuilder().seed((long) i).temperature(1.3).minP(0).logitBias(Map.of(17, -5.0)).build();
        others.add(h.submit("o" + i, PROMPTS.get(i), other, null));
      }
      GenerationOutcome batched = get(h.submit("batched", PROMPTS.get(0), seeded, null));
      assertThat(batched.choices().get(0).tokens()).isEqualTo(alone.choices().get(0).tokens());
      List<TokenLogprobs> a = alone.choices().get(0).logprobs();
      List<TokenLogprobs> b = batched.choices().get(0).logprobs();
      assertThat(b).hasSameSizeAs(a);
      for (int i = 0; i < a.size(); i++) {
        assertThat(b.get(i).logprob()).isCloseTo(a.get(i).logprob(), within(1e-4));
      }
      for (CompletableFuture<GenerationOutcome> o : others) {
        assertThat(get(o).isFailure()).isFalse();
      }
      assertThat(tokens(h.submit("other-seed", PROMPTS.get(0), seeded.toBuilder().seed(78L).build(), null)))
          .isNotEqualTo(alone.choices().get(0).tokens());
    }
  }

  @Test
  void greedyWithPenaltiesGetsTheSameTokensEveryTimeAloneOrInABatch() throws Exception {
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_LLAMA), ROOMY)) {
      h.engine.start();
      List<int[]> alone = new ArrayList<>();
      for (int i = 0; i < PROMPTS.size(); i++) {
        alone.add(tokens(h.submit("alone" + i, PROMPTS.get(i), PENALIZED, null)));
        assertThat(tokens(h.submit("again" + i, PROMPTS.get(i), PENALIZED, null))).isEqualTo(alone.get(i));
      }
      // The penalties do something: some prompt's greedy continuation changes under them.
      boolean changed = false;
      for (int i = 0; i < PROMPTS.size(); i++) {
        changed |= !Arrays.equals(alone.get(i), h.alone(PROMPTS.get(i), 30));
      }
      assertThat(changed).isTrue();

      // Together, and next to plain greedy requests for the same prompts: each counts only its own tokens.
      List<CompletableFuture<GenerationOutcome>> penalized = new ArrayList<>();
      List<CompletableFuture<GenerationOutcome>> plain = new ArrayList<>();
      for (int i = 0; i < PROMPTS.size(); i++) {
        penalized.add(h.submit("p" + i, PROMPTS.get(i), PENALIZED, null));
        plain.add(h.submit("g" + i, PROMPTS.get(i), SamplingParams.greedy(30), null));
      }
      for (int i = 0; i < PROMPTS.size(); i++) {
        assertThat(tokens(penalized.get(i))).as("prompt %d", i).isEqualTo(alone.get(i));
        assertThat(tokens(plain.get(i))).as("prompt %d", i).isEqualTo(h.alone(PROMPTS.get(i), 30));
      }
    }
  }

  @Test
  void eachChoiceIsPenalizedForItsOwnTokensOnly() throws Exception {
    SamplingParams strong = PENALIZED.toBuilder().frequencyPenalty(2).presencePenalty(2).build();
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_LLAMA), ROOMY)) {
      h.engine.start();
      int[] single = tokens(h.submit("one", PROMPTS.get(3), strong, null));
      // Greedy choices of one prompt are identical only if no choice's tokens count against another.
      GenerationOutcome three = get(h.submit("three", PROMPTS.get(3), strong.toBuilder().n(3).build(), null));
      assertThat(three.choices()).hasSize(3)
          .allSatisfy(c -> assertThat(c.tokens()).isEqualTo(single));
    }
  }

  @Test
  void minTokensKeepsTheEndOfSequenceAway(@TempDir Path tmp) throws Exception {
    int fourth;
    try (Harness h = new Harness(GenerationEngineTest.endless(tmp), ROOMY)) {
      fourth = h.alone(PROMPTS.get(0), 4)[3];
    }
    // The model, told that its fourth greedy token ends a sequence, stops after three tokens...
    Path copy = GenerationEngineTest.modelCopy(tmp, TestModels.TINY_LLAMA, Map.of(),
        Map.of("eos_token_id", List.of(2, fourth)));
    try (Harness h = new Harness(copy, ROOMY)) {
      h.engine.start();
      assertThat(tokens(h.submit("eos", PROMPTS.get(0), SamplingParams.greedy(30), null))).hasSize(3);
      // ...unless it must give at least ten: the end-of-sequence token cannot be drawn until then.
      SamplingParams atLeastTen = SamplingParams.greedy(30).toBuilder().minTokens(10).build();
      int[] ten = tokens(h.submit("ten", PROMPTS.get(0), atLeastTen, null));
      assertThat(ten.length).isGreaterThanOrEqualTo(10);
      assertThat(ten[3]).isNotEqualTo(fourth).isNotEqualTo(2);
      SamplingParams sampled = atLeastTen.toBuilder().temperature(1.0).seed(3L).build();
      for (int i = 0; i < 5; i++) {
        assertThat(tokens(h.submit("s" + i, PROMPTS.get(0), sampled.toBuilder().seed((long) i).build(), null)).length)
            .isGreaterThanOrEqualTo(10);
      }
    }
  }

  @Test
  void minTokensHoldsStopStringsBackToo(@TempDir Path tmp) throws Exception {
    try (Harness h = new Harness(GenerationEngineTest.endless(tmp), ROOMY)) {
      h.engine.start();
      int[] prompt = h.tokenizer.encode(PROMPTS.get(0));
      int[] alone = h.alone(PROMPTS.get(0), 30);
      // A stop string the text reaches by its third token.
      String text = h.tokenizer.continuation(prompt, Arrays.copyOf(alone, 3));
      String stop = text.substring(text.length() - 2);
      SamplingParams stopping = SamplingParams.greedy(30).toBuilder().stop(List.of(stop)).build();
      assertThat(tokens(h.submit("early", PROMPTS.get(0), stopping, null)).length).isLessThanOrEqualTo(3);

      int[] late = tokens(h.submit("late", PROMPTS.get(0), stopping.toBuilder().minTokens(12).build(), null));
      assertThat(late.length).isGreaterThanOrEqualTo(12);
      assertThat(late).isEqualTo(Arrays.copyOf(alone, late.length));
    }
  }

  @Test
  void aLogitBiasOfMinusAHundredBansATokenAndPlusAHundredForcesOne() throws Exception {
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_LLAMA), ROOMY)) {
      h.engine.start();
      int[] alone = h.alone(PROMPTS.get(1), 20);
      int banned = alone[0];
      SamplingParams ban = SamplingParams.greedy(20).toBuilder().logitBias(Map.of(banned, -100.0)).build();
      assertThat(tokens(h.submit("ban", PROMPTS.get(1), ban, null))).doesNotContain(banned);

      int forced = 300;
      SamplingParams force = SamplingParams.builder().maxTokens(20).temperature(1.0).seed(5L)
          .logitBias(Map.of(forced, 100.0)).build();
      int[] all = new int[20];
      Arrays.fill(all, forced);
      assertThat(tokens(h.submit("force", PROMPTS.get(1), force, null))).isEqualTo(all);

      GenerationOutcome outside = get(h.submit("outside", PROMPTS.get(1),
          SamplingParams.greedy(5).toBuilder().logitBias(Map.of(1024, 1.0)).build(), null));
      assertThat(outside.failure()).isEqualTo(Failure.DOES_NOT_FIT);
      assertThat(outside.message()).contains("logit_bias", "1024");
    }
  }

  @Test
  void logprobsAreStreamedWithEachTokenAndRepeatedInTheOutcome() throws Exception {
    try (Harness h = new Harness(TestModels.dir(TestModels.TINY_LLAMA), ROOMY)) {
      h.engine.start();
      SamplingParams sampled = SamplingParams.builder().maxTokens(25).temperature(1.1).topK(30).seed(9L).n(2)
          .logprobs(5).build();
      Streamed s = stream(h, "sampled", PROMPTS.get(2), sampled);
      GenerationOutcome outcome = get(s.outcome());
      for (GenerationOutcome.Choice c : outcome.choices()) {
        List<TokenStep> steps = s.steps().get(c.index());
        assertThat(steps).extracting(TokenStep::token).containsExactly(Arrays.stream(c.tokens()).boxed()
            .toArray(Integer[]::new));
        assertThat(steps).extracting(TokenStep::logprobs).containsExactlyElementsOf(c.logprobs());
        for (TokenStep step : steps) {
          TokenLogprobs lp = step.logprobs();
          assertThat(lp.logprob()).isLessThanOrEqualTo(0.0);
          assertThat(lp.top()).hasSize(5);
          assertThat(lp.top()).extracting(TokenLogprobs.Alternative::logprob)
              .isSortedAccordingTo((x, y) -> y.compareTo(x));
          assertThat(lp.top().stream().mapToDouble(x -> Math.exp(x.logprob())).sum()).isLessThanOrEqualTo(1 + 1e-9);
          // The generated token is no likelier than the likeliest, and reads the same when it is listed.
          assertThat(lp.logprob()).isLessThanOrEqualTo(lp.top().get(0).logprob());
          lp.top().stream().filter(x -> x.token() == step.token())
              .forEach(x -> assertThat(x.logprob()).isEqualTo(lp.logprob()));
        }
      }

      // Greedy without processors: the generated token is always the likeliest.
      Streamed greedy = stream(h, "greedy", PROMPTS.get(2), SamplingParams.greedy(25).toBuilder().logprobs(0).build());
      get(greedy.outcome());
      Streamed greedyTop = stream(h, "greedy-top", PROMPTS.get(2),
          SamplingParams.greedy(25).toBuilder().logprobs(1).build());
      get(greedyTop.outcome());
      assertThat(greedy.steps().get(0)).allSatisfy(step -> assertThat(step.logprobs().top()).isEmpty());
      List<TokenStep> top = greedyTop.steps().get(0);
      assertThat(top).allSatisfy(step -> assertThat(step.logprobs().top().get(0).token()).isEqualTo(step.token()));
      for (int i = 0; i < top.size(); i++) {
        assertThat(greedy.steps().get(0).get(i).logprobs().logprob()).isEqualTo(top.get(i).logprobs().logprob());
      }

      // Not asked for: nothing computed, nothing carried.
      Streamed plain = stream(h, "plain", PROMPTS.get(2), SamplingParams.greedy(5));
      assertThat(get(plain.outcome()).choices().get(0).logprobs()).isEmpty();
      assertThat(plain.steps().get(0)).hasSize(5).allSatisfy(step -> assertThat(step.logprobs()).isNull());
    }
  }
}
