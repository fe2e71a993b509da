package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
  private static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 3.0f, 0.0f};

  private static SamplingParams params(double temperature, double topP, int topK) {
    return SamplingParams.builder().temperature(temperature).topP(topP).topK(topK).seed(7L).build();
  }

  @Test
  void greedyTakesTheLargestLogitAndTheLowestIdOnATie() {
    assertThat(Sampler.next(LOGITS, SamplingParams.greedy(1), new SplittableRandom(1))).isEqualTo(1);
  }

  @Test
  void topKOfOneIsGreedy() {
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < 100; i++) {
      assertThat(Sampler.next(LOGITS, params(1.5, 1.0, 1), random)).isEqualTo(1);
    }
  }

  @Test
  void topKKeepsOnlyTheKMostLikely() {
    SplittableRandom random = new SplittableRandom(4);
    for (int i = 0; i < 500; i++) {
      assertThat(Sampler.next(LOGITS, params(5.0, 1.0, 3), random)).isIn(1, 4, 2);
    }
  }

  @Test
  void aSmallTopPKeepsOnlyTheMostLikelyToken() {
    SplittableRandom random = new SplittableRandom(5);
    for (int i = 0; i < 100; i++) {
      assertThat(Sampler.next(LOGITS, params(1.0, 0.01, 0), random)).isEqualTo(1);
    }
  }

  @Test
  void topPKeepsTheSmallestSetThatReachesTheMass() {
    // Probabilities at temperature 1: tokens 1 and 4 hold ~0.35 each, token 2 ~0.21: top_p 0.75 keeps {1, 4, 2}.
    SplittableRandom random = new SplittableRandom(6);
    int[] seen = new int[LOGITS.length];
    for (int i = 0; i < 2000; i++) {
      seen[Sampler.next(LOGITS, params(1.0, 0.75, 0), random)]++;
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
      ones += Sampler.next(logits, params(1.0, 1.0, 0), random);
    }
    assertThat(ones / 20_000.0).isBetween(0.73, 0.77);
  }

  @Test
  void theSameSeedDrawsTheSameTokens() {
    SplittableRandom a = new SplittableRandom(42);
    SplittableRandom b = new SplittableRandom(42);
    for (int i = 0; i < 50; i++) {
      assertThat(Sampler.next(LOGITS, params(2.0, 0.9, 0), a)).isEqualTo(Sampler.next(LOGITS, params(2.0, 0.9, 0), b));
    }
  }

  @Test
  void ordersLogitsDescendingWithNegativesAndTies() {
    assertThat(Sampler.byLogitDescending(LOGITS)).containsExactly(1, 4, 2, 0, 5, 3);
  }
}
