package io.aigc.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.schemas.GenerationParams;
import org.junit.jupiter.api.Test;

class TaskCodecTest {
  @Test
  void aRequestWithoutASeedIsSeededFromItsIdSoARedoDrawsTheSameTokens() {
    GenerationParams unseeded = GenerationParams.newBuilder().setTemperature(0.8).build();

    assertThat(TaskCodec.samplingParams("job-1", unseeded).seed())
        .isEqualTo(TaskCodec.samplingParams("job-1", unseeded).seed())
        .isNotEqualTo(TaskCodec.samplingParams("job-2", unseeded).seed());
    assertThat(TaskCodec.samplingParams("job-1", unseeded).temperature()).isEqualTo(0.8);
  }

  @Test
  void aCallersSeedIsKept() {
    GenerationParams seeded = GenerationParams.newBuilder().setSeed(42L).build();
    assertThat(TaskCodec.samplingParams("job-1", seeded).seed()).isEqualTo(42L);
  }
}
