package io.aigc.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A model as a folder in the Hugging Face Optimum decoder layout: {@code model.onnx}, {@code config.json},
 * {@code tokenizer.json}, and optionally {@code tokenizer_config.json} and {@code generation_config.json}.
 *
 * <p>The served model's name is the folder's name. Only what every service needs is read here: the context
 * length, the special tokens, and the raw {@code config.json} for the worker's shape checks.
 */
public final class ModelDirectory {
  /** The model every service serves unless told otherwise: the tiny one committed in this repository. */
  public static final Path DEFAULT = Path.of("models", "tiny-llama");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The names different architectures give the context length in config.json, most specific first. */
  private static final List<String> CONTEXT_KEYS =
      List.of("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length", "seq_length");

  private final Path dir;
  private final JsonNode config;
  private final JsonNode generationConfig;
  private final JsonNode tokenizerConfig;

  /** Reads the JSON files of {@code dir}, an absolute folder {@link #open} has checked. */
  private ModelDirectory(Path dir) {
    this.dir = dir;
    this.config = read(dir.resolve("config.json"));
    this.generationConfig = readOptional(dir.resolve("generation_config.json"));
    this.tokenizerConfig = readOptional(dir.resolve("tokenizer_config.json"));
  }

  /** What a model's name may hold: it names a topic and a consumer group, so Kafka's topic characters only. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");

  /**
   * The folders {@code AIGC_MODEL_DIR} names: one, or several separated by commas, the default model (what a request
   * naming none gets) first. Each model's name is its folder's name, so names must be distinct and valid in a Kafka
   * topic name ({@code [A-Za-z0-9._-]}): each model has a tokenized topic of its own.
   */
  public static List<Path> list(String value) {
    List<Path> dirs = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String part : value.split(",", -1)) {
      if (part.isBlank()) {
        throw new IllegalArgumentException("AIGC_MODEL_DIR has an empty entry: '" + value + "'");
      }
      Path dir = Path.of(part.trim()).toAbsolutePath().normalize();
      String name = String.valueOf(dir.getFileName());
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("AIGC_MODEL_DIR: the model name '" + name + "' (the folder's name) must be"
            + " 1 to 200 of [A-Za-z0-9._-], as it names the model's Kafka topic");
      }
      if (!names.add(name)) {
        throw new IllegalArgumentException("AIGC_MODEL_DIR names two folders called '" + name + "': a model's name "
            + "is its folder's name, so each must be distinct");
      }
      dirs.add(dir);
    }
    return List.copyOf(dirs);
  }

  /** The model's name for a folder, as {@link #open} and {@link #list} give it. */
  public static String nameOf(Path dir) {
    return String.valueOf(dir.toAbsolutePath().normalize().getFileName());
  }

  /** Opens {@code dir}, failing with a message that says which file is missing or malformed. */
  public static ModelDirectory open(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(abs)) {
      throw new IllegalArgumentException("model directory " + abs + " does not exist");
    }
    for (String required : List.of("config.json", "tokenizer.json")) {
      if (!Files.isRegularFile(abs.resolve(required))) {
        throw new IllegalArgumentException("model directory " + abs + " has no " + required
            + " (expected the Optimum layout: model.onnx, config.json, tokenizer.json)");
      }
    }
    return new ModelDirectory(abs);
  }

  public Path path() {
    return dir;
  }

  /** The name clients use in the {@code model} field: the folder's name. */
  public String name() {
    return nameOf(dir);
  }

  public Path onnxFile() {
    return dir.resolve("model.onnx");
  }

  public Path tokenizerFile() {
    return dir.resolve("tokenizer.json");
  }

  /** config.json as parsed JSON, for architecture details only the worker needs. */
  public JsonNode config() {
    return config;
  }

  /** How many tokens (prompt and generated together) the model can attend to. */
  public int contextLength() {
    for (String key : CONTEXT_KEYS) {
      JsonNode v = config.get(key);
      if (v != null && v.canConvertToInt() && v.asInt() > 0) {
        return v.asInt();
      }
    }
    JsonNode v = tokenizerConfig.get("model_max_length");
    if (v != null && v.isNumber() && v.asLong() > 0 && v.asLong() < 10_000_000) {
      return v.asInt();
    }
    throw new IllegalArgumentException("config.json of " + dir + " gives no context length (looked for "
        + String.join(", ", CONTEXT_KEYS) + ")");
  }

  /** Number of token ids the model knows (config.json's vocab_size), or empty when it does not say. */
  public OptionalInt vocabSize() {
    JsonNode v = config.get("vocab_size");
    return v != null && v.canConvertToInt() && v.asInt() > 0 ? OptionalInt.of(v.asInt()) : OptionalInt.empty();
  }

  /** Token ids that end generation: generation_config.json's eos_token_id (a number or a list), else config.json's. */
  public List<Integer> eosTokenIds() {
    JsonNode v = generationConfig.has("eos_token_id") ? generationConfig.get("eos_token_id") : config.get("eos_token_id");
    List<Integer> ids = new ArrayList<>();
    if (v != null && v.isArray()) {
      v.forEach(n -> ids.add(n.asInt()));
    } else if (v != null && v.canConvertToInt()) {
      ids.add(v.asInt());
    }
    return List.copyOf(ids);
  }

  public OptionalInt bosTokenId() {
    JsonNode v = generationConfig.has("bos_token_id") ? generationConfig.get("bos_token_id") : config.get("bos_token_id");
    return v != null && v.canConvertToInt() ? OptionalInt.of(v.asInt()) : OptionalInt.empty();
  }

  /** tokenizer_config.json's add_bos_token, when it says. */
  public Optional<Boolean> addBosToken() {
    JsonNode v = tokenizerConfig.get("add_bos_token");
    return v != null && v.isBoolean() ? Optional.of(v.asBoolean()) : Optional.empty();
  }

  /**
   * tokenizer_config.json's chat_template: a string, or a list of named templates ({@code {"name", "template"}})
   * of which the one named "default" is the chat template. Empty when the model has none.
   */
  public Optional<String> chatTemplate() {
    JsonNode v = tokenizerConfig.get("chat_template");
    if (v != null && v.isTextual() && !v.asText().isEmpty()) {
      return Optional.of(v.asText());
    }
    if (v != null && v.isArray()) {
      for (JsonNode named : v) {
        JsonNode template = named.get("template");
        if ("default".equals(named.path("name").asText()) && template != null && template.isTextual()) {
          return Optional.of(template.asText());
        }
      }
    }
    return Optional.empty();
  }

  /** tokenizer_config.json's bos_token as text (the string, or the "content" of an added-token object). */
  public Optional<String> bosToken() {
    return specialToken("bos_token");
  }

  /** tokenizer_config.json's eos_token as text (the string, or the "content" of an added-token object). */
  public Optional<String> eosToken() {
    return specialToken("eos_token");
  }

  private Optional<String> specialToken(String key) {
    JsonNode v = tokenizerConfig.get(key);
    if (v != null && v.isObject()) {
      v = v.get("content");
    }
    return v != null && v.isTextual() ? Optional.of(v.asText()) : Optional.empty();
  }

  private static JsonNode read(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static JsonNode readOptional(Path file) {
    return Files.isRegularFile(file) ? read(file) : JSON.createObjectNode();
  }

  @Override
  public String toString() {
    return name() + " (" + dir + ")";
  }
}
