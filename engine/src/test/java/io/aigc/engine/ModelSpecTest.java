package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxJavaType;
import io.aigc.model.ModelDirectory;
import io.aigc.model.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSpecTest {

  @Test
  void readsALlamaStyleExportWithGroupedQueryAttention() throws Exception {
    try (OnnxModel model = OnnxModelTest.load(TestModels.TINY_LLAMA)) {
      ModelSpec spec = model.spec();
      assertThat(spec.layers()).isEqualTo(2);
      assertThat(spec.kvHeads()).isEqualTo(2); // 4 query heads share 2 KV heads
      assertThat(spec.headDim()).isEqualTo(16);
      assertThat(spec.hasPositionIds()).isTrue();
      assertThat(spec.kvPrecision()).isEqualTo(ModelSpec.Precision.FLOAT32);
      assertThat(spec.vocabSize()).isEqualTo(1024);
      assertThat(spec.contextLength()).isEqualTo(256);
      assertThat(spec.eosTokenIds()).containsExactly(2);
      assertThat(spec.kvBytesPerToken()).isEqualTo(2L * 2 * 2 * 16 * 4);
    }
  }

  @Test
  void readsAGpt2StyleExportWithoutPositionIdsAndAHalfPrecisionOne() throws Exception {
    try (OnnxModel gpt2 = OnnxModelTest.load(TestModels.TINY_GPT2);
        OnnxModel fp16 = OnnxModelTest.load(TestModels.TINY_GPT2_FP16)) {
      assertThat(gpt2.spec().kvHeads()).isEqualTo(4);
      assertThat(gpt2.spec().hasPositionIds()).isFalse();
      assertThat(fp16.spec().hasPositionIds()).isTrue();
      assertThat(fp16.spec().kvPrecision()).isEqualTo(ModelSpec.Precision.FLOAT16);
      assertThat(fp16.graph().logitsType()).isEqualTo(OnnxJavaType.FLOAT16);
      assertThat(fp16.spec().kvElementBytes()).isEqualTo(2);
    }
  }

  @Test
  void aConfigThatContradictsTheGraphIsRejectedWithTheReason(@TempDir Path tmp) throws Exception {
    Path wrong = GenerationEngineTest.modelCopy(tmp, TestModels.TINY_LLAMA, Map.of("num_key_value_heads", 4), Map.of());
    assertThatThrownBy(() -> OnnxModel.open(ModelDirectory.open(wrong), OnnxModel.SessionSettings.cpu().withThreads(1, false)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("model.onnx has KV heads 2 but config.json says 4");
  }

  @Test
  void cudaFallsBackToCpuWhenThisBuildCannotProvideIt() throws Exception {
    // The default build has no CUDA provider; the -Pcuda build on a machine without CUDA 12 fails to create the
    // CUDA session instead. Either way the worker must come up on CPU.
    try (OnnxModel model = OnnxModel.open(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)),
        OnnxModel.SessionSettings.cpu().withDevice(OnnxModel.Device.CUDA, 0).withThreads(1, false))) {
      assertThat(model.device()).isEqualTo("cpu");
      assertThat(DirectDecoder.greedy(model, List.of(new int[] {1, 400, 500}), 3, false).get(0)).hasSize(3);
    }
  }
}
