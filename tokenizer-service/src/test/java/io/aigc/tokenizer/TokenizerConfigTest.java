package io.aigc.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.runtime.Env;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TokenizerConfigTest {
  @Test
  void defaults() {
    TokenizerConfig config = TokenizerConfig.fromEnv(Env.of(Map.of("HOSTNAME", "pod-7")));
    assertThat(config.modelDirs()).containsExactly(Path.of("models/tiny-llama").toAbsolutePath());
    assertThat(config.promptTemplate()).isEqualTo("{prompt}");
    assertThat(config.maxN()).isEqualTo(8);
    assertThat(config.producer()).isEqualTo("tokenizer-service@pod-7");
    assertThat(config.common().topics().requests().name()).isEqualTo("generation.requests");
  }

  @Test
  void severalModelsAreCommaSeparatedWithDistinctTopicSafeNames() {
    TokenizerConfig config = TokenizerConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", "models/a, other/b")));
    assertThat(config.modelDirs()).containsExactly(Path.of("models/a").toAbsolutePath(),
        Path.of("other/b").toAbsolutePath());
    assertThatThrownBy(() -> TokenizerConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", "x/a,y/a"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two folders called 'a'");
    assertThatThrownBy(() -> TokenizerConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", "x/a b"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[A-Za-z0-9._-]");
  }

  @Test
  void theTemplateIsTakenVerbatim() {
    TokenizerConfig config = TokenizerConfig.fromEnv(Env.of(Map.of(
        "AIGC_PROMPT_TEMPLATE", "### Question\n{prompt}\n### Answer\n",
        "AIGC_MAX_N", "2",
        "AIGC_TOPIC_REQUESTS", "other.requests")));
    assertThat(config.promptTemplate()).isEqualTo("### Question\n{prompt}\n### Answer\n");
    assertThat(config.maxN()).isEqualTo(2);
    assertThat(config.common().topics().requests().name()).isEqualTo("other.requests");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({"AIGC_PROMPT_TEMPLATE, 'Answer: '", "AIGC_MAX_N, 0"})
  void aTemplateWithoutThePromptOrAnImpossibleNIsAConfigurationError(String variable, String value) {
    assertThatThrownBy(() -> TokenizerConfig.fromEnv(Env.of(Map.of(variable, value))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(variable);
  }
}
