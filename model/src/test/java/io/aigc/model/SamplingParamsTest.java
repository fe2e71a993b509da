package io.aigc.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {
  @Test
  void theBuilderStartsFromOpenAisDefaultsWithEveryExtraOff() {
    SamplingParams p = SamplingParams.builder().build();
    assertThat(p.maxTokens()).isEqualTo(16);
    assertThat(p.temperature()).isEqualTo(1.0);
    assertThat(p.isGreedy()).isFalse();
    assertThat(p.presencePenalty()).isZero();
    assertThat(p.frequencyPenalty()).isZero();
    assertThat(p.repetitionPenalty()).isEqualTo(1.0);
    assertThat(p.minP()).isZero();
    assertThat(p.minTokens()).isZero();
    assertThat(p.logitBias()).isEmpty();
    assertThat(p.wantsLogprobs()).isFalse();
  }

  @Test
  void greedyIsTemperatureZeroAndARoundTripThroughTheBuilderChangesNothing() {
    SamplingParams greedy = SamplingParams.greedy(30);
    assertThat(greedy.isGreedy()).isTrue();
    assertThat(greedy.maxTokens()).isEqualTo(30);
    SamplingParams full = SamplingParams.builder().maxTokens(9).temperature(0.5).topP(0.9).topK(3).n(2).seed(4L)
        .stop(List.of("x")).ignoreEos(true).presencePenalty(1).frequencyPenalty(-1).repetitionPenalty(1.2).minP(0.1)
        .minTokens(3).logitBias(Map.of(1, 2.0)).logprobs(5).build();
    assertThat(full.toBuilder().build()).isEqualTo(full);
  }

  @Test
  void aTemperatureTooSmallToDivideByIsGreedy() {
    assertThat(SamplingParams.builder().temperature(1e-6).build().isGreedy()).isTrue();
  }

  @Test
  void refusesValuesOutsideTheirRanges() {
    assertThatThrownBy(() -> SamplingParams.builder().presencePenalty(2.5).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().frequencyPenalty(-2.01).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().repetitionPenalty(0).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().minP(1.5).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().maxTokens(4).minTokens(5).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().logitBias(Map.of(3, 100.5)).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().logitBias(Map.of(-1, 1.0)).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().logprobs(SamplingParams.MAX_LOGPROBS + 1).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SamplingParams.builder().logprobs(-2).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void keepsItsOwnCopyOfTheLogitBias() {
    Map<Integer, Double> bias = new HashMap<>(Map.of(1, 5.0));
    SamplingParams p = SamplingParams.builder().logitBias(bias).build();
    bias.put(2, 1.0);
    assertThat(p.logitBias()).containsOnlyKeys(1);
  }
}
