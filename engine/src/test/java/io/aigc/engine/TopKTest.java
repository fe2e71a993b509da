package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TopKTest {
  private static final float INF = Float.NEGATIVE_INFINITY;

  private static float[] apply(int k, float... logits) {
    new TopK(k, new Sampler.Scratch()).apply(logits, new TokenHistory(false, null));
    return logits;
  }

  @Test
  void keepsTheKHighestLogits() {
    assertThat(apply(2, 1f, 5f, 3f, 4f)).containsExactly(INF, 5f, INF, 4f);
  }

  @Test
  void keepsExactlyKOnATieTheLowerIdsFirst() {
    assertThat(apply(2, 3f, 1f, 3f, 3f)).containsExactly(3f, INF, 3f, INF);
  }

  @Test
  void leavesFewerThanKCandidatesAlone() {
    assertThat(apply(3, INF, 2f, INF, 1f)).containsExactly(INF, 2f, INF, 1f);
    assertThat(apply(9, 1f, 2f)).containsExactly(1f, 2f);
  }

  @Test
  void agreesWithASortOnRandomRows() {
    SplittableRandom random = new SplittableRandom(12);
    for (int round = 0; round < 50; round++) {
      float[] logits = new float[300];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = random.nextInt(40) / 4f; // plenty of ties
      }
      int k = 1 + random.nextInt(60);
      long[] keys = new long[logits.length];
      for (int i = 0; i < logits.length; i++) {
        keys[i] = ByLogit.key(logits[i], i);
      }
      java.util.Arrays.sort(keys);
      float[] expected = new float[logits.length];
      java.util.Arrays.fill(expected, INF);
      for (int j = 0; j < k; j++) {
        expected[ByLogit.token(keys[j])] = logits[ByLogit.token(keys[j])];
      }
      assertThat(apply(k, logits)).containsExactly(expected);
    }
  }
}
