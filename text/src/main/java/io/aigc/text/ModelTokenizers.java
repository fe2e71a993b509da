package io.aigc.text;

import io.aigc.model.ModelDirectory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tokenizers of every model a deployment serves, by model name, for the stages that turn text into tokens and
 * back for any model (the tokenizer-service and the postprocessor). The first model is the default: the one a
 * request that names none gets.
 */
public final class ModelTokenizers implements AutoCloseable {
  /** One served model: its folder and its tokenizer. */
  public record Served(ModelDirectory model, TextTokenizer tokenizer) {
    public String name() {
      return model.name();
    }
  }

  private final Map<String, Served> byName;
  private final Served defaultModel;

  private ModelTokenizers(Map<String, Served> byName) {
    this.byName = byName;
    this.defaultModel = byName.values().iterator().next();
  }

  /** Opens every folder and loads its tokenizer now, so a wrong {@code AIGC_MODEL_DIR} fails at startup. */
  public static ModelTokenizers load(List<Path> dirs) {
    if (dirs.isEmpty()) {
      throw new IllegalArgumentException("AIGC_MODEL_DIR names no model");
    }
    Map<String, Served> byName = new LinkedHashMap<>();
    try {
      for (Path dir : dirs) {
        ModelDirectory model = ModelDirectory.open(dir);
        byName.put(model.name(), new Served(model, TextTokenizer.load(model)));
      }
    } catch (RuntimeException | Error e) {
      byName.values().forEach(s -> s.tokenizer().close());
      throw e;
    }
    return new ModelTokenizers(byName);
  }

  /** The model named {@code name}, or the default model when {@code name} is null; empty when not served. */
  public Optional<Served> get(String name) {
    return name == null ? Optional.of(defaultModel) : Optional.ofNullable(byName.get(name));
  }

  public Served defaultModel() {
    return defaultModel;
  }

  /** The served models' names, the default first. */
  public List<String> names() {
    return new ArrayList<>(byName.keySet());
  }

  public List<Served> all() {
    return List.copyOf(byName.values());
  }

  @Override
  public void close() {
    byName.values().forEach(s -> s.tokenizer().close());
  }
}
