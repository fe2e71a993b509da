package io.aigc.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.model.ModelDirectory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What an Optimum decoder export looks like to ONNX Runtime: its tensor names and element types, and the
 * {@link ModelSpec} read from them and {@code config.json}. The session's static dimensions win, config.json fills
 * in symbolic ones, and a disagreement between the two is an error that names both.
 *
 * @param kvType element type of the cache tensors
 * @param logitsType element type of the logits
 * @param inputIdsType element type of input_ids (int64 in Optimum exports; int32 in some others)
 * @param maskType element type of attention_mask
 */
record OnnxGraph(ModelSpec spec, OnnxJavaType kvType, OnnxJavaType logitsType, OnnxJavaType inputIdsType,
    OnnxJavaType maskType) {

  static final String INPUT_IDS = "input_ids";
  static final String ATTENTION_MASK = "attention_mask";
  static final String POSITION_IDS = "position_ids";
  static final String LOGITS = "logits";

  static String pastKey(int layer) {
    return "past_key_values." + layer + ".key";
  }

  static String pastValue(int layer) {
    return "past_key_values." + layer + ".value";
  }

  static String presentKey(int layer) {
    return "present." + layer + ".key";
  }

  static String presentValue(int layer) {
    return "present." + layer + ".value";
  }

  static OnnxGraph read(Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs, ModelDirectory dir) {
    List<String> missing = new ArrayList<>();
    for (String name : List.of(INPUT_IDS, ATTENTION_MASK, pastKey(0), pastValue(0))) {
      if (!inputs.containsKey(name)) {
        missing.add("input " + name);
      }
    }
    for (String name : List.of(LOGITS, presentKey(0), presentValue(0))) {
      if (!outputs.containsKey(name)) {
        missing.add("output " + name);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(dir.onnxFile() + " is not a decoder exported with its KV cache (missing "
          + String.join(", ", missing) + "; export with `optimum-cli export onnx --task text-generation-with-past`)."
          + " Inputs: " + new TreeSet<>(inputs.keySet()) + "; outputs: " + new TreeSet<>(outputs.keySet()));
    }
    int layers = 0;
    while (inputs.containsKey(pastKey(layers))) {
      if (!inputs.containsKey(pastValue(layers)) || !outputs.containsKey(presentKey(layers))
          || !outputs.containsKey(presentValue(layers))) {
        throw new IllegalArgumentException(dir.onnxFile() + ": layer " + layers + " lacks one of "
            + pastValue(layers) + ", " + presentKey(layers) + ", " + presentValue(layers));
      }
      layers++;
    }
    for (String name : inputs.keySet()) {
      boolean known = name.equals(INPUT_IDS) || name.equals(ATTENTION_MASK) || name.equals(POSITION_IDS)
          || name.startsWith("past_key_values.");
      if (!known) {
        throw new IllegalArgumentException(dir.onnxFile() + " has an input this worker cannot feed: " + name
            + " (supported: input_ids, attention_mask, position_ids, past_key_values.N.key/value)");
      }
    }

    TensorInfo past = tensor(inputs, pastKey(0));
    long[] shape = past.getShape(); // [batch, kv_heads, past_sequence_length, head_dim]
    if (shape.length != 4) {
      throw new IllegalArgumentException(dir.onnxFile() + ": " + pastKey(0) + " has rank " + shape.length
          + ", expected [batch, kv_heads, sequence, head_dim]");
    }
    JsonNode config = dir.config();
    int heads = firstInt(config, "num_attention_heads", "n_head", "num_heads");
    int kvHeads = reconcile(dir, "KV heads", shape[1], firstInt(config, "num_key_value_heads", "n_head_kv",
        "num_attention_heads", "n_head", "num_heads"));
    int hidden = firstInt(config, "hidden_size", "n_embd", "d_model");
    int configHeadDim = config.has("head_dim") ? config.get("head_dim").asInt()
        : (hidden > 0 && heads > 0 ? hidden / heads : -1);
    int headDim = reconcile(dir, "head size", shape[3], configHeadDim);

    TensorInfo logits = tensor(outputs, LOGITS);
    long[] logitShape = logits.getShape();
    int vocab = reconcile(dir, "vocabulary size", logitShape[logitShape.length - 1], firstInt(config, "vocab_size"));

    OnnxJavaType kvType = past.type;
    if (tensor(outputs, presentKey(0)).type != kvType) {
      throw new IllegalArgumentException(dir.onnxFile() + ": present and past cache types differ");
    }
    ModelSpec spec = new ModelSpec(layers, kvHeads, headDim, precision(dir, "cache", kvType), vocab,
        inputs.containsKey(POSITION_IDS), dir.contextLength(), Set.copyOf(dir.eosTokenIds()));
    precision(dir, "logits", logits.type);
    return new OnnxGraph(spec, kvType, logits.type, integerType(dir, inputs, INPUT_IDS),
        integerType(dir, inputs, ATTENTION_MASK));
  }

  private static ModelSpec.Precision precision(ModelDirectory dir, String what, OnnxJavaType type) {
    return switch (type) {
      case FLOAT -> ModelSpec.Precision.FLOAT32;
      case FLOAT16 -> ModelSpec.Precision.FLOAT16;
      case BFLOAT16 -> ModelSpec.Precision.BFLOAT16;
      default -> throw new IllegalArgumentException(dir.onnxFile() + ": unsupported " + what + " type " + type);
    };
  }

  private static TensorInfo tensor(Map<String, NodeInfo> nodes, String name) {
    if (!(nodes.get(name).getInfo() instanceof TensorInfo info)) {
      throw new IllegalArgumentException(name + " is not a tensor");
    }
    return info;
  }

  private static OnnxJavaType integerType(ModelDirectory dir, Map<String, NodeInfo> inputs, String name) {
    OnnxJavaType type = tensor(inputs, name).type;
    if (type != OnnxJavaType.INT64 && type != OnnxJavaType.INT32) {
      throw new IllegalArgumentException(dir.onnxFile() + ": " + name + " is " + type + ", expected int64 or int32");
    }
    return type;
  }

  /** The session's static dimension wins; config.json fills in a symbolic one; a disagreement is an error. */
  private static int reconcile(ModelDirectory dir, String what, long fromSession, int fromConfig) {
    if (fromSession > 0 && fromConfig > 0 && fromSession != fromConfig) {
      throw new IllegalArgumentException(dir + ": model.onnx has " + what + " " + fromSession
          + " but config.json says " + fromConfig);
    }
    if (fromSession > 0) {
      return (int) fromSession;
    }
    if (fromConfig > 0) {
      return fromConfig;
    }
    throw new IllegalArgumentException(dir + ": cannot tell the " + what + " from model.onnx or config.json");
  }

  private static int firstInt(JsonNode config, String... keys) {
    for (String key : keys) {
      JsonNode v = config.get(key);
      if (v != null && v.canConvertToInt()) {
        return v.asInt();
      }
    }
    return -1;
  }
}
