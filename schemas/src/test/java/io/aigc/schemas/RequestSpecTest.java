package io.aigc.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.model.SamplingParams;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestSpecTest {
  private static final SamplingParams EVERY_PARAMETER = SamplingParams.builder().maxTokens(40).temperature(0.7)
      .topP(0.9).topK(12).n(3).seed(-5L).stop(List.of("\n", "END")).ignoreEos(true).presencePenalty(0.5)
      .frequencyPenalty(-1).repetitionPenalty(1.3).minP(0.05).minTokens(2).logitBias(Map.of(7, -100.0, 0, 2.5))
      .logprobs(4).build();

  @Test
  void theContractsParametersMapBackToTheSameSamplingParameters() {
    assertThat(RequestSpec.fromParams(RequestSpec.toParams(EVERY_PARAMETER))).isEqualTo(EVERY_PARAMETER);
    SamplingParams defaults = SamplingParams.builder().build();
    assertThat(RequestSpec.fromParams(RequestSpec.toParams(defaults))).isEqualTo(defaults);
    assertThat(RequestSpec.toParams(defaults).getLogprobs()).as("no logprobs travels as null").isNull();
    assertThat(RequestSpec.toParams(EVERY_PARAMETER).getLogitBias()).containsEntry("7", -100.0);
  }

  @Test
  void anEventWithoutParametersSetSamplesWithTheDefaults() {
    assertThat(RequestSpec.fromParams(GenerationParams.newBuilder().build()))
        .isEqualTo(SamplingParams.builder().build());
  }

  @Test
  void theEventCarriesTheSpecAndItsDeadline() {
    RequestSpec spec = RequestSpec.builder().prompt("Hi").sampling(s -> s.maxTokens(40).temperature(0.7))
        .metadata(Map.of("article", "42")).timeout(Duration.ofSeconds(3)).build();
    GenerationRequest event = spec.toEvent("r1", Instant.ofEpochMilli(1_000), "tiny-llama");

    assertThat(event.getModel()).isEqualTo("tiny-llama");
    assertThat(event.getDeadline()).isEqualTo(4_000L);
    assertThat(event.getParams()).isEqualTo(RequestSpec.toParams(spec.sampling()));
    assertThat(event.getMetadata()).containsEntry("article", "42");
  }

  @Test
  void samplingChangesAddUpAndBuildRefusesWithTheContractsWords() {
    RequestSpec spec = RequestSpec.builder().sampling(s -> s.maxTokens(8)).sampling(s -> s.logprobs(2)).build();
    assertThat(spec.sampling().maxTokens()).isEqualTo(8);
    assertThat(spec.sampling().logprobs()).isEqualTo(2);
    assertThat(spec.toBuilder().build()).isEqualTo(spec);

    assertThatThrownBy(() -> RequestSpec.builder().sampling(s -> s.temperature(3)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Invalid 'temperature'");
  }

  @Test
  void itsTextIsNeverInItsString() {
    assertThat(RequestSpec.builder().prompt("secret words").build().toString()).doesNotContain("secret")
        .contains("12 chars");
  }
}
