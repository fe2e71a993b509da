package io.aigc.text.testing;

import io.aigc.model.ModelDirectory;
import io.aigc.model.testing.TestModels;
import io.aigc.text.ModelTokenizers;
import io.aigc.text.TextTokenizer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The test models with their tokenizers, loaded once per test JVM: a tokenizer is read-only and thread-safe, and
 * loading one is the slow part of a topology test's setup. They are never closed; the JVM's exit frees them.
 */
public final class TestTokenizers {
  private static final Map<String, ModelTokenizers.Served> LOADED = new ConcurrentHashMap<>();

  private TestTokenizers() {}

  /** The test model {@code name} ({@link TestModels}'s constants) and its tokenizer. */
  public static ModelTokenizers.Served served(String name) {
    return LOADED.computeIfAbsent(name, n -> {
      ModelDirectory model = ModelDirectory.open(TestModels.dir(n));
      return new ModelTokenizers.Served(model, TextTokenizer.load(model));
    });
  }

  /** {@code vars} and {@code AIGC_MODEL_DIR} naming the folders of {@code models}, as a service's config reads it. */
  public static Map<String, String> env(List<ModelTokenizers.Served> models, Map<String, String> vars) {
    Map<String, String> env = new HashMap<>(vars);
    env.putAll(TestModels.modelDirEnv(models.stream().map(ModelTokenizers.Served::name).toArray(String[]::new)));
    return env;
  }
}
