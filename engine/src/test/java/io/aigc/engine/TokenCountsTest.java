package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenCountsTest {
  @Test
  void countsEachTokenAndListsThemInOrderOfFirstOccurrence() {
    TokenCounts counts = new TokenCounts();
    for (int token : new int[] {7, 3, 7, 0, 7, 3}) {
      counts.add(token);
    }
    assertThat(counts.size()).isEqualTo(3);
    assertThat(new int[] {counts.token(0), counts.token(1), counts.token(2)}).containsExactly(7, 3, 0);
    assertThat(new int[] {counts.count(0), counts.count(1), counts.count(2)}).containsExactly(3, 2, 1);
    assertThat(counts.countOf(7)).isEqualTo(3);
    assertThat(counts.countOf(5)).isZero();
  }

  @Test
  void agreesWithAMapOverManyDistinctTokens() {
    TokenCounts counts = new TokenCounts();
    Map<Integer, Integer> expected = new HashMap<>();
    SplittableRandom random = new SplittableRandom(13);
    for (int i = 0; i < 20_000; i++) {
      int token = random.nextInt(150_000);
      counts.add(token);
      expected.merge(token, 1, Integer::sum);
    }
    assertThat(counts.size()).isEqualTo(expected.size());
    for (int i = 0; i < counts.size(); i++) {
      assertThat(counts.count(i)).isEqualTo(expected.get(counts.token(i)));
    }
    expected.forEach((token, n) -> assertThat(counts.countOf(token)).isEqualTo(n));
  }

  @Test
  void aHistoryKeepsOnlyWhatItWasAskedFor() {
    TokenHistory bare = new TokenHistory(false, null);
    bare.add(4);
    assertThat(bare.generatedCount()).isEqualTo(1);
    assertThat(bare.generated).isNull();
    assertThat(bare.seen).isNull();

    TokenHistory full = new TokenHistory(true, new int[] {1, 2});
    full.add(2);
    full.add(5);
    assertThat(full.generated.size()).isEqualTo(2);
    assertThat(full.generated.countOf(1)).isZero(); // the prompt is not generated
    assertThat(full.seen.size()).isEqualTo(3);
  }
}
