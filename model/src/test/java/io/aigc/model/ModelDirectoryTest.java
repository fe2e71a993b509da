package io.aigc.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirectoryTest {
  @TempDir
  Path dir;

  @Test
  void readsAChatTemplateGivenAsAString() throws IOException {
    ModelDirectory model = model("{\"chat_template\": \"{{ bos_token }}{{ messages[0]['content'] }}\"}");
    assertThat(model.chatTemplate()).contains("{{ bos_token }}{{ messages[0]['content'] }}");
  }

  @Test
  void theDefaultOfNamedChatTemplatesIsTheChatTemplate() throws IOException {
    ModelDirectory model = model("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"tools\"},"
        + " {\"name\": \"default\", \"template\": \"plain\"}]}");
    assertThat(model.chatTemplate()).contains("plain");
  }

  @Test
  void aModelWithoutAChatTemplateHasNone() throws IOException {
    assertThat(model("{\"bos_token\": \"<s>\"}").chatTemplate()).isEmpty();
    assertThat(model("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"tools\"}]}").chatTemplate())
        .isEmpty();
  }

  @Test
  void readsSpecialTokensGivenAsStringsOrAsAddedTokenObjects() throws IOException {
    ModelDirectory model = model("{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<s>\", \"lstrip\": false},"
        + " \"eos_token\": \"</s>\"}");
    assertThat(model.bosToken()).contains("<s>");
    assertThat(model.eosToken()).contains("</s>");
  }

  @Test
  void aSpecialTokenThatIsNullIsAbsent() throws IOException {
    ModelDirectory model = model("{\"bos_token\": null, \"eos_token\": \"<|im_end|>\"}");
    assertThat(model.bosToken()).isEmpty();
    assertThat(model.eosToken()).contains("<|im_end|>");
  }

  private ModelDirectory model(String tokenizerConfig) throws IOException {
    Files.writeString(dir.resolve("config.json"), "{\"max_position_embeddings\": 64}");
    Files.writeString(dir.resolve("tokenizer.json"), "{}");
    Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
    return ModelDirectory.open(dir);
  }
}
