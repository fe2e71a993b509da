package io.aigc.engine;

import java.util.Set;

/**
 * The shape of a decoder-only model, as the scheduler needs it: how big one token's cache is, how long a sequence
 * may grow, which tokens end it. Read from the model's graph and {@code config.json} by {@link OnnxModel} instead of
 * assumed from a model family, so GPT-2-style and Llama-style (grouped-query attention) exports, with or without a
 * {@code position_ids} input, in float32 or float16, all run unmodified.
 *
 * @param layers transformer layers, each with a key and a value cache tensor
 * @param kvHeads key/value heads per layer (fewer than query heads under grouped-query attention)
 * @param headDim size of one head
 * @param kvPrecision element type of the cache tensors
 * @param vocabSize size of the logits' last dimension
 * @param hasPositionIds whether positions are an input; without it, the model derives them from the cache length,
 *     so rows of different lengths cannot share a batch (see {@link BatchGroup})
 * @param contextLength most tokens the model attends to
 * @param eosTokenIds tokens that end a sequence
 */
public record ModelSpec(int layers, int kvHeads, int headDim, Precision kvPrecision, int vocabSize,
    boolean hasPositionIds, int contextLength, Set<Integer> eosTokenIds) {

  /** Element types of cache and logits tensors. */
  public enum Precision {
    FLOAT32(4), FLOAT16(2), BFLOAT16(2);

    private final int bytes;

    Precision(int bytes) {
      this.bytes = bytes;
    }

    public int bytes() {
      return bytes;
    }
  }

  public ModelSpec {
    eosTokenIds = Set.copyOf(eosTokenIds);
  }

  /** Bytes of one cache element. */
  public int kvElementBytes() {
    return kvPrecision.bytes();
  }

  /** Bytes the cache holds per token of one sequence: keys and values of every layer. */
  public long kvBytesPerToken() {
    return 2L * layers * kvHeads * headDim * kvElementBytes();
  }
}
