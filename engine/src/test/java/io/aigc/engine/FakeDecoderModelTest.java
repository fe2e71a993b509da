package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fake model is only worth testing the scheduler with if it notices what the scheduler could get wrong. */
class FakeDecoderModelTest {
  private final FakeDecoderModel model = new FakeDecoderModel(FakeDecoderModel.spec(true, 64, Set.of()));
  private final BufferPool pool = model.pool();

  /** A forward pass; without {@code real}, every token is real (a decode step). */
  private DecoderModel.Forward forward(int[] tokens, int seqLen, KvBlock past, int... real)
      throws DecoderModel.ModelException {
    if (real.length == 0) {
      real = new int[past.rows];
      Arrays.fill(real, seqLen);
    }
    return model.forward(tokens, seqLen, past, real);
  }

  @Test
  void aPromptLeftPaddedBesideALongerOneGetsTheLogitsItGetsAloneAndSoDoesItsNextStep() throws Exception {
    DecoderModel.Forward alone;
    DecoderModel.Forward together;
    try (KvBlock one = KvBlock.empty(model.spec(), pool, 1); KvBlock two = KvBlock.empty(model.spec(), pool, 2)) {
      alone = forward(new int[] {5, 6, 7}, 3, one, 3);
      together = forward(new int[] {0, 0, 5, 6, 7, 9, 8, 7, 6, 5}, 5, two, 3, 5);
    }
    assertThat(together.logits()[0]).isEqualTo(alone.logits()[0]);
    assertThat(together.logits()[1]).isNotEqualTo(alone.logits()[0]);

    DecoderModel.Forward aloneNext = forward(new int[] {11}, 1, alone.present());
    DecoderModel.Forward togetherNext = forward(new int[] {11, 11}, 1, together.present());
    assertThat(togetherNext.logits()[0]).isEqualTo(aloneNext.logits()[0]);
    // ...and after being gathered into a new block, right-aligned to a longer row.
    try (KvBlock gathered = KvBlock.gather(model.spec(), pool,
        List.of(new KvBlock.Row(together.present(), 1), new KvBlock.Row(alone.present(), 0)))) {
      assertThat(forward(new int[] {3, 11}, 1, gathered).logits()[1]).isEqualTo(aloneNext.logits()[0]);
    }
  }

  @Test
  void paddingIsIgnoredButAChangedRealPositionChangesTheNextToken() throws Exception {
    try (KvBlock two = KvBlock.empty(model.spec(), pool, 2)) {
      KvBlock cache = forward(new int[] {0, 0, 5, 6, 7, 9, 8, 7, 6, 5}, 5, two, 3, 5).present();
      int[] next = {11, 11};
      float[] before = forward(next, 1, cache).logits()[0];
      // Row 0, layer 0's keys, head 0: positions 0 and 1 are padding, 2 to 4 are real.
      int positionBytes = model.spec().headDim() * 4;
      cache.tensor(0, false).putFloat(0, 12345f);
      cache.tensor(1, true).putFloat(positionBytes, Float.NaN);
      assertThat(forward(next, 1, cache).logits()[0]).isEqualTo(before);
      cache.tensor(1, true).putFloat(2 * positionBytes, 12345f);
      assertThat(forward(next, 1, cache).logits()[0]).isNotEqualTo(before);
    }
  }

  @Test
  void itRefusesWhatARealModelCannotRun() throws Exception {
    FakeDecoderModel noPositions = new FakeDecoderModel(FakeDecoderModel.spec(false, 64, Set.of()));
    try (KvBlock two = KvBlock.empty(noPositions.spec(), noPositions.pool(), 2)) {
      assertThatThrownBy(() -> noPositions.forward(new int[] {0, 5, 6, 7}, 2, two, new int[] {1, 2}))
          .isInstanceOf(IllegalStateException.class);
    }
    try (KvBlock one = KvBlock.empty(model.spec(), pool, 1)) {
      assertThatThrownBy(() -> forward(new int[65], 65, one, 65))
          .hasMessageContaining("past the context");
    }
  }
}
