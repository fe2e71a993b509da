package io.aigc.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.runtime.Env;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {
  @Test
  void eachModelsWorkersShareAGroupOfTheirOwn() {
    WorkerConfig config = WorkerConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", "models/tiny-gpt2")));
    assertThat(config.group()).isEqualTo("aigc-inference-worker.tiny-gpt2");
    assertThat(config.drainTimeout()).isEqualTo(Duration.ofSeconds(20));

    WorkerConfig renamed = WorkerConfig.fromEnv(Env.of(Map.of("AIGC_WORKER_GROUP", "team-a-workers",
        "AIGC_DRAIN_TIMEOUT", "5s")));
    assertThat(renamed.group()).isEqualTo("team-a-workers.tiny-llama");
    assertThat(renamed.drainTimeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void aWorkerServesExactlyOneModel() {
    assertThatThrownBy(() -> WorkerConfig.fromEnv(Env.of(Map.of("AIGC_MODEL_DIR", "models/tiny-llama,models/tiny-gpt2"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AIGC_MODEL_DIR names 2 models, but an inference worker serves exactly one");
  }
}
