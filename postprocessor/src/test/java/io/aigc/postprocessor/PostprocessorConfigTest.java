package io.aigc.postprocessor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.runtime.Env;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PostprocessorConfigTest {
  @Test
  void defaults() {
    PostprocessorConfig config = PostprocessorConfig.fromEnv(Env.of(Map.of()));
    assertThat(config.modelDirs()).containsExactly(Path.of("models/tiny-llama").toAbsolutePath());
    assertThat(config.dedupRetention()).isEqualTo(Duration.ofDays(7));
    assertThat(config.dedupPurgeInterval()).isEqualTo(Duration.ofHours(1));
    assertThat(config.common().topics().completions().name()).isEqualTo("generation.completions");
  }

  @Test
  void readsTheDedupDurations() {
    PostprocessorConfig config = PostprocessorConfig.fromEnv(Env.of(Map.of(
        "AIGC_DEDUP_RETENTION", "48h", "AIGC_DEDUP_PURGE_INTERVAL", "5m")));
    assertThat(config.dedupRetention()).isEqualTo(Duration.ofHours(48));
    assertThat(config.dedupPurgeInterval()).isEqualTo(Duration.ofMinutes(5));
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({"AIGC_DEDUP_RETENTION, 0s", "AIGC_DEDUP_PURGE_INTERVAL, 0"})
  void aZeroRetentionIsAConfigurationError(String variable, String value) {
    assertThatThrownBy(() -> PostprocessorConfig.fromEnv(Env.of(Map.of(variable, value))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(variable);
  }
}
