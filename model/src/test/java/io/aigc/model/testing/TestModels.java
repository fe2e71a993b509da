package io.aigc.model.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The small models built by {@code models/build_models.py} and committed under {@code models/}. */
public final class TestModels {
  /** Llama architecture: grouped-query attention, RoPE, position_ids input; its tokenizer adds BOS itself. */
  public static final String TINY_LLAMA = "tiny-llama";
  /** GPT-2 architecture exported without position_ids; byte-level tokenizer without BOS. */
  public static final String TINY_GPT2 = "tiny-gpt2";
  /** tiny-llama's weights exported without position_ids. */
  public static final String TINY_LLAMA_NOPOS = "tiny-llama-nopos";
  /** tiny-gpt2's weights with position_ids and a float16 cache and logits. */
  public static final String TINY_GPT2_FP16 = "tiny-gpt2-fp16";

  /** Prompts of different lengths in the models' own idiom (they were trained on license texts). */
  public static final List<String> PROMPTS = List.of(
      "This License applies to any program",
      "You may copy and distribute",
      "the Program",
      "Each contributor grants you a non-exclusive, worldwide license",
      "You may copy and share", // as long as the previous one in tokens, on purpose
      "If you distribute copies of such a program, whether gratis or for a fee, you must pass on",
      "Licensed under the Apache License",
      "The");

  private TestModels() {}

  public static Path dir(String name) {
    Path dir = root().resolve(name);
    if (!Files.isRegularFile(dir.resolve("model.onnx"))) {
      throw new IllegalStateException(dir + " has no model.onnx; rebuild with /usr/bin/python3 models/build_models.py");
    }
    return dir;
  }

  /** {@code AIGC_MODEL_DIR} naming the folders of the test models {@code names}, as the services read it. */
  public static Map<String, String> modelDirEnv(String... names) {
    return Map.of("AIGC_MODEL_DIR", String.join(",", Arrays.stream(names).map(n -> dir(n).toString()).toList()));
  }

  /** {@code AIGC_MODELS_ROOT} (set by the build), else the nearest {@code models/} folder above the working directory. */
  public static Path root() {
    String env = System.getenv("AIGC_MODELS_ROOT");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("models/build_models.py"))) {
        return p.resolve("models");
      }
    }
    throw new IllegalStateException("cannot find the models/ folder; set AIGC_MODELS_ROOT");
  }
}
