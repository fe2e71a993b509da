package io.aigc.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigc.model.ModelDirectory;
import io.aigc.model.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {
  private static final int LLAMA_BOS = 1;

  @Test
  void aTokenizerThatAddsBosItselfGetsExactlyOne() {
    ModelDirectory model = ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA));
    assertThat(model.addBosToken()).contains(true);
    try (TextTokenizer tokenizer = TextTokenizer.load(model)) {
      int[] ids = tokenizer.encode("This License applies to any program");
      assertThat(ids[0]).isEqualTo(LLAMA_BOS);
      assertThat(ids[1]).isNotEqualTo(LLAMA_BOS);
      assertThat(Arrays.stream(ids).filter(id -> id == LLAMA_BOS).count()).isEqualTo(1);
    }
  }

  @Test
  void bosIsAddedWhenTheConfigAsksAndThePostProcessorDoesNot(@TempDir Path dir) throws Exception {
    Path source = TestModels.dir(TestModels.TINY_LLAMA);
    for (String file : new String[] {"config.json", "tokenizer_config.json", "generation_config.json"}) {
      Files.copy(source.resolve(file), dir.resolve(file));
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode tokenizerJson = (ObjectNode) json.readTree(source.resolve("tokenizer.json").toFile());
    tokenizerJson.putNull("post_processor"); // as in older Llama exports: BOS only in tokenizer_config.json
    json.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson);

    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(dir))) {
      int[] ids = tokenizer.encode("This License");
      assertThat(ids[0]).isEqualTo(LLAMA_BOS);
      assertThat(Arrays.stream(ids).filter(id -> id == LLAMA_BOS).count()).isEqualTo(1);
    }
  }

  @Test
  void aRenderedChatThatBeginsWithBosKeepsExactlyOne() {
    ModelDirectory model = ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA));
    try (TextTokenizer tokenizer = TextTokenizer.load(model)) {
      String rendered = "<s>[INST] This License applies [/INST]";
      // Encoded as plain text, the post-processor's BOS comes before the template's.
      assertThat(Arrays.copyOf(tokenizer.encode(rendered), 2)).containsExactly(LLAMA_BOS, LLAMA_BOS);
      int[] ids = tokenizer.encodeChat(rendered);
      assertThat(ids[0]).isEqualTo(LLAMA_BOS);
      assertThat(Arrays.stream(ids).filter(id -> id == LLAMA_BOS).count()).isEqualTo(1);
      // The BOS written by the template is the special token, not its characters.
      assertThat(tokenizer.decode(ids)).isEqualTo("[INST] This License applies [/INST]");
    }
  }

  @Test
  void aRenderedChatWithoutBosIsEncodedAsAnyText() {
    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)))) {
      String text = "[INST] This License applies [/INST]";
      assertThat(tokenizer.encodeChat(text)).isEqualTo(tokenizer.encode(text));
      assertThat(tokenizer.encodeChat(text)[0]).isEqualTo(LLAMA_BOS);
    }
  }

  @Test
  void aGpt2StyleTokenizerAddsNoSpecialToken() {
    ModelDirectory model = ModelDirectory.open(TestModels.dir(TestModels.TINY_GPT2));
    try (TextTokenizer tokenizer = TextTokenizer.load(model)) {
      int[] ids = tokenizer.encode("This License");
      assertThat(tokenizer.decode(ids)).isEqualTo("This License");
      assertThat(ids).doesNotContain(model.eosTokenIds().get(0));
    }
  }

  @Test
  void aContinuationKeepsItsLeadingSpace() {
    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)))) {
      int[] prompt = tokenizer.encode("This License");
      int[] whole = tokenizer.encode("This License applies to any program");
      assertThat(Arrays.copyOf(whole, prompt.length)).isEqualTo(prompt);
      int[] generated = Arrays.copyOfRange(whole, prompt.length, whole.length);

      // Decoding the generated ids alone loses the space (the SentencePiece decoder strips a leading one)...
      assertThat(tokenizer.decode(generated)).isEqualTo("applies to any program");
      // ...the continuation is exact.
      assertThat(tokenizer.continuation(prompt, generated)).isEqualTo(" applies to any program");
    }
  }

  @Test
  void aCharacterSplitAcrossTheBoundaryComesOutWhole() {
    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)))) {
      // 'ж' is not in the vocabulary: byte fallback encodes it as two byte tokens.
      int[] whole = tokenizer.encode("a ж");
      int[] prompt = Arrays.copyOf(whole, whole.length - 1);
      int[] generated = Arrays.copyOfRange(whole, whole.length - 1, whole.length);
      assertThat(tokenizer.continuation(prompt, generated)).isEqualTo("ж");
    }
  }

  @Test
  void readsTheContextLengthAndSpecialTokensFromTheModelFolder() {
    ModelDirectory llama = ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA));
    assertThat(llama.name()).isEqualTo("tiny-llama");
    assertThat(llama.contextLength()).isEqualTo(256);
    assertThat(llama.eosTokenIds()).containsExactly(2);
    assertThat(llama.bosTokenId()).hasValue(1);
  }
}
