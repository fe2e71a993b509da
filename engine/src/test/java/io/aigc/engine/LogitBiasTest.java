package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LogitBiasTest {
  @Test
  void addsEachBiasToItsTokenOnly() {
    float[] logits = {1f, 2f, 3f, 4f};
    new LogitBias(Map.of(0, 1.5, 3, -100.0)).apply(logits, new TokenHistory(false, null));
    assertThat(logits).containsExactly(2.5f, 2f, 3f, -96f);
  }

  @Test
  void aBiasOfPlusOrMinusAHundredOutweighsAnyOrdinaryLogit() {
    float[] logits = {12f, -3f, 8f};
    new LogitBias(Map.of(1, 100.0, 0, -100.0)).apply(logits, new TokenHistory(false, null));
    assertThat(Sampler.argmax(logits)).isEqualTo(1);
    assertThat(logits[0]).isLessThan(logits[2]);
  }
}
