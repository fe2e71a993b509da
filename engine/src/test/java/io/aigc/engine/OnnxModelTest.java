package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.aigc.model.ModelDirectory;
import io.aigc.text.TextTokenizer;
import io.aigc.model.testing.TestModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OnnxModelTest {

  static OnnxModel load(String name) throws Exception {
    return OnnxModel.open(ModelDirectory.open(TestModels.dir(name)),
        OnnxModel.SessionSettings.cpu().withThreads(1, false).withPooledBytes(64L << 20));
  }

  static int[] promptIds(String model, String text) {
    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(TestModels.dir(model)))) {
      return tokenizer.encode(text);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2, TestModels.TINY_LLAMA_NOPOS, TestModels.TINY_GPT2_FP16})
  void cachedDecodingGivesTheTokensOfRecomputingTheWholeSequence(String name) throws Exception {
    try (OnnxModel model = load(name)) {
      int[] prompt = promptIds(name, "This License applies to any");
      List<Integer> cached = new ArrayList<>();
      KvBlock empty = KvBlock.empty(model.spec(), model.pool(), 1);
      DecoderModel.Forward step = model.forward(prompt, prompt.length, empty);
      empty.close();
      for (int i = 0; i < 24; i++) {
        int next = Sampler.argmax(step.logits()[0]);
        cached.add(next);
        KvBlock past = step.present();
        step = model.forward(new int[] {next}, 1, past);
        past.close();
      }
      step.present().close();

      List<Integer> recomputed = new ArrayList<>();
      int[] sequence = prompt;
      for (int i = 0; i < 24; i++) {
        try (KvBlock none = KvBlock.empty(model.spec(), model.pool(), 1)) {
          DecoderModel.Forward full = model.forward(sequence, sequence.length, none);
          full.present().close();
          int next = Sampler.argmax(full.logits()[0]);
          recomputed.add(next);
          sequence = Arrays.copyOf(sequence, sequence.length + 1);
          sequence[sequence.length - 1] = next;
        }
      }
      assertThat(cached).isEqualTo(recomputed);
      assertThat(model.pool().inUseBytes()).isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2_FP16})
  void aPaddedRowGetsTheLogitsItGetsAlone(String name) throws Exception {
    try (OnnxModel model = load(name)) {
      int[] shortPrompt = promptIds(name, "the Program");
      int[] longPrompt = promptIds(name, "You may convey verbatim copies of the Program");
      DecoderModel.Forward a = prefill(model, shortPrompt);
      DecoderModel.Forward b = prefill(model, longPrompt);
      int nextA = Sampler.argmax(a.logits()[0]);
      int nextB = Sampler.argmax(b.logits()[0]);

      KvBlock batch = KvBlock.gather(model.spec(), model.pool(),
          List.of(new KvBlock.Row(a.present(), 0), new KvBlock.Row(b.present(), 0)));
      DecoderModel.Forward together = model.forward(new int[] {nextA, nextB}, 1, batch);
      DecoderModel.Forward aloneA = model.forward(new int[] {nextA}, 1, a.present());
      DecoderModel.Forward aloneB = model.forward(new int[] {nextB}, 1, b.present());

      for (int v = 0; v < model.spec().vocabSize(); v++) {
        assertThat(together.logits()[0][v]).isCloseTo(aloneA.logits()[0][v], within(1e-4f));
        assertThat(together.logits()[1][v]).isCloseTo(aloneB.logits()[0][v], within(1e-4f));
      }
      for (KvBlock block : List.of(a.present(), b.present(), batch, together.present(), aloneA.present(),
          aloneB.present())) {
        block.close();
      }
    }
  }

  private static DecoderModel.Forward prefill(OnnxModel model, int[] prompt) throws Exception {
    try (KvBlock empty = KvBlock.empty(model.spec(), model.pool(), 1)) {
      return model.forward(prompt, prompt.length, empty);
    }
  }
}
