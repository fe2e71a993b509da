package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.aigc.model.SamplingParams;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SamplerTest {
  private static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 3.0f, 0.0f};
  private static final int[] PROMPT = {0, 5};

  private static SamplingParams params(double temperature, double topP, int topK) {
    return SamplingParams.builder().temperature(temperature).topP(topP).topK(topK).seed(7L).build();
  }

  private static int next(SamplingParams params, SplittableRandom random) {
    return next(LOGITS, params, random);
  }

  private static int next(float[] logits, SamplingParams params, SplittableRandom random) {
    Sampler sampler = Sampler.of(params, Set.of(), new Sampler.Scratch());
    return sampler.next(logits, sampler.newHistory(PROMPT), random).token();
  }

  @Test
  void greedyTakesTheLargestLogitAndTheLowestIdOnATie() {
    assertThat(next(SamplingParams.greedy(1), new SplittableRandom(1))).isEqualTo(1);
  }

  /** Whatever the draw, truncation leaves only {@code allowed}: top-k of one, top-k of three, a tiny top-p. */
  @ParameterizedTest(name = "temperature {1}, top_p {2}, top_k {3}: only {5}")
  @CsvSource({
      "3, 1.5, 1.0,  1, 100, 1",
      "4, 5.0, 1.0,  3, 500, 1 4 2",
      "5, 1.0, 0.01, 0, 100, 1"})
  void truncationKeepsOnlyTheMostLikelyTokens(long seed, double temperature, double topP, int topK, int draws,
      String allowed) {
    List<Integer> kept = Arrays.stream(allowed.split(" ")).map(Integer::valueOf).toList();
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < draws; i++) {
      assertThat(next(params(temperature, topP, topK), random)).isIn(kept);
    }
  }

  @Test
  void topPKeepsTheSmallestSetThatReachesTheMass() {
    // Probabilities at temperature 1: tokens 1 and 4 hold ~0.35 each, token 2 ~0.21: top_p 0.75 keeps {1, 4, 2}.
    SplittableRandom random = new SplittableRandom(6);
    int[] seen = new int[LOGITS.length];
    for (int i = 0; i < 2000; i++) {
      seen[next(params(1.0, 0.75, 0), random)]++;
    }
    assertThat(seen[0]).isZero();
    assertThat(seen[3]).isZero();
    assertThat(seen[5]).isZero();
    assertThat(seen[1]).isPositive();
    assertThat(seen[4]).isPositive();
    assertThat(seen[2]).isPositive();
  }

  @Test
  void samplingFollowsTheDistribution() {
    float[] logits = {0f, (float) Math.log(3)}; // probabilities 1/4 and 3/4
    SplittableRandom random = new SplittableRandom(8);
    int ones = 0;
    for (int i = 0; i < 20_000; i++) {
      ones += next(logits, params(1.0, 1.0, 0), random);
    }
    assertThat(ones / 20_000.0).isBetween(0.73, 0.77);
  }

  @Test
  void theSameSeedDrawsTheSameTokens() {
    SplittableRandom a = new SplittableRandom(42);
    SplittableRandom b = new SplittableRandom(42);
    for (int i = 0; i < 50; i++) {
      assertThat(next(params(2.0, 0.9, 0), a)).isEqualTo(next(params(2.0, 0.9, 0), b));
    }
  }

  @Test
  void everyDrawTakesExactlyOneNumberFromTheChoicesStream() {
    SplittableRandom used = new SplittableRandom(9);
    SplittableRandom reference = new SplittableRandom(9);
    next(params(0.7, 0.5, 2), used);
    reference.nextDouble();
    assertThat(used.nextLong()).isEqualTo(reference.nextLong());
  }

  @Test
  void aGreedyRequestTakesNothingFromTheStream() {
    SplittableRandom used = new SplittableRandom(10);
    next(SamplingParams.greedy(1), used);
    assertThat(used.nextLong()).isEqualTo(new SplittableRandom(10).nextLong());
  }

  @Test
  void runsOnlyTheProcessorsTheRequestTurnedOnInVllmsOrder() {
    Sampler.Scratch scratch = new Sampler.Scratch();
    assertThat(Sampler.of(SamplingParams.greedy(4), Set.of(2), scratch).processors()).isEmpty();
    assertThat(Sampler.of(SamplingParams.builder().build(), Set.of(2), scratch).processors()).isEmpty();

    SamplingParams everything = SamplingParams.builder().maxTokens(8).temperature(0.7).topK(40).topP(0.9).minP(0.05)
        .presencePenalty(0.5).frequencyPenalty(0.5).repetitionPenalty(1.1).minTokens(2).logitBias(Map.of(5, 1.0))
        .build();
    assertThat(Sampler.of(everything, Set.of(2), scratch).processors())
        .extracting(p -> p.getClass().getSimpleName())
        .containsExactly("MinTokens", "LogitBias", "RepetitionPenalty", "PresenceFrequencyPenalty", "Temperature",
            "TopK", "TopP", "MinP");
    // Greedy keeps what can move the argmax and skips what cannot.
    assertThat(Sampler.of(everything.toBuilder().temperature(0).build(), Set.of(2), scratch).processors())
        .extracting(p -> p.getClass().getSimpleName())
        .containsExactly("MinTokens", "LogitBias", "RepetitionPenalty", "PresenceFrequencyPenalty");
    // min_tokens means nothing without an end-of-sequence token to hold back.
    assertThat(Sampler.of(everything.toBuilder().ignoreEos(true).build(), Set.of(2), scratch).processors())
        .extracting(p -> p.getClass().getSimpleName()).doesNotContain("MinTokens");
  }

  @Test
  void theModelsRowIsNeverWrittenSoChoicesSharingItSeeTheSameLogits() {
    float[] row = LOGITS.clone();
    SamplingParams everything = SamplingParams.builder().temperature(0.7).topK(2).topP(0.5).minP(0.5)
        .presencePenalty(2).repetitionPenalty(3).minTokens(2).logitBias(Map.of(3, 100.0)).logprobs(3).build();
    Sampler sampler = Sampler.of(everything, Set.of(1), new Sampler.Scratch());
    TokenHistory history = sampler.newHistory(PROMPT);
    history.add(4);
    sampler.next(row, history, new SplittableRandom(1));
    assertThat(row).containsExactly(LOGITS);
  }

  @Test
  void greedyFollowsBiasAndPenalties() {
    Sampler biased = Sampler.of(SamplingParams.greedy(4).toBuilder().logitBias(Map.of(5, 3.5)).build(), Set.of(),
        new Sampler.Scratch());
    assertThat(biased.next(LOGITS, biased.newHistory(PROMPT), new SplittableRandom(1)).token()).isEqualTo(5);

    Sampler penalized = Sampler.of(SamplingParams.greedy(4).toBuilder().frequencyPenalty(1).build(), Set.of(),
        new Sampler.Scratch());
    TokenHistory history = penalized.newHistory(PROMPT);
    history.add(1);
    assertThat(penalized.next(LOGITS, history, new SplittableRandom(1)).token()).isEqualTo(4);
    // Another choice of the same request has its own history: token 1 is still its best.
    assertThat(penalized.next(LOGITS, penalized.newHistory(PROMPT), new SplittableRandom(1)).token()).isEqualTo(1);
  }

  @Test
  void noLogprobsUnlessAsked() {
    Sampler sampler = Sampler.of(SamplingParams.greedy(4), Set.of(), new Sampler.Scratch());
    assertThat(sampler.next(LOGITS, sampler.newHistory(PROMPT), new SplittableRandom(1)).logprobs()).isNull();
  }

  @Test
  void logprobsAreTheModelsOwnDistributionWhateverTheSamplingKnobs() {
    SamplingParams knobs = SamplingParams.builder().temperature(0.3).topK(1).logitBias(Map.of(3, 100.0))
        .repetitionPenalty(2).logprobs(2).build();
    Sampler sampler = Sampler.of(knobs, Set.of(), new Sampler.Scratch());
    TokenStep step = sampler.next(LOGITS, sampler.newHistory(PROMPT), new SplittableRandom(1));
    assertThat(step.token()).isEqualTo(3); // forced by the bias...
    double logNormalizer = Math.log(sumExp(LOGITS));
    // ...yet reported with the probability the model gave it.
    assertThat(step.logprobs().logprob()).isCloseTo(-1.0 - logNormalizer, within(1e-9));
    assertThat(step.logprobs().top()).extracting(TokenLogprobs.Alternative::token).containsExactly(1, 4);
    assertThat(step.logprobs().top()).allSatisfy(a -> assertThat(a.logprob()).isCloseTo(3.0 - logNormalizer,
        within(1e-9)));
  }

  @Test
  void topLogprobsComeMostLikelyFirstTiesByIdAndSpanTheWholeDistribution() {
    TokenLogprobs all = Sampler.logprobs(LOGITS, 2, LOGITS.length);
    assertThat(all.top()).extracting(TokenLogprobs.Alternative::token).containsExactly(1, 4, 2, 0, 5, 3);
    assertThat(all.top()).extracting(TokenLogprobs.Alternative::logprob).isSortedAccordingTo((a, b) -> b.compareTo(a))
        .allSatisfy(lp -> assertThat(lp).isNegative());
    assertThat(all.top().stream().mapToDouble(a -> Math.exp(a.logprob())).sum()).isCloseTo(1.0, within(1e-9));
    assertThat(all.logprob()).isEqualTo(all.top().get(2).logprob());

    assertThat(Sampler.logprobs(LOGITS, 3, 0).top()).isEmpty(); // 0: the chosen token's only
    assertThat(Sampler.logprobs(LOGITS, 3, 0).logprob()).isEqualTo(all.top().get(5).logprob());
    assertThat(Sampler.logprobs(LOGITS, 3, 20).top()).hasSize(LOGITS.length);
  }

  @Test
  void aCertainTokenHasLogprobZero() {
    float[] logits = {-1000f, 0f, -1000f};
    assertThat(Sampler.logprobs(logits, 1, 1).logprob()).isEqualTo(0.0);
  }

  @Test
  void aDrawNeverPicksATokenAtMinusInfinity() {
    float inf = Float.NEGATIVE_INFINITY;
    float[] logits = {inf, 5f, inf, 5f, inf};
    SplittableRandom random = new SplittableRandom(11);
    double[] weights = new double[logits.length];
    for (int i = 0; i < 200; i++) {
      assertThat(Sampler.draw(logits, random, weights)).isIn(1, 3);
    }
  }

  @Test
  void ordersLogitsDescendingWithNegativesAndTies() {
    List<Integer> order = java.util.stream.IntStream.range(0, LOGITS.length).boxed()
        .sorted((a, b) -> Long.compare(ByLogit.key(LOGITS[a], a), ByLogit.key(LOGITS[b], b))).toList();
    assertThat(order).containsExactly(1, 4, 2, 0, 5, 3);
    assertThat(ByLogit.token(ByLogit.key(-7.5f, 1023))).isEqualTo(1023);
  }

  private static double sumExp(float[] logits) {
    double sum = 0;
    for (float l : logits) {
      sum += Math.exp(l);
    }
    return sum;
  }
}
