package io.aigc.engine;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A decoder in plain Java, so the scheduler can be tested without ONNX Runtime.
 *
 * <p>It keeps a real model's cache layout ({@link KvBlock}: rows right-aligned, {@code rowLengths} real tokens each,
 * the padding before them hidden) and, like a real model, computes a row's next token from nothing but that row's
 * real cache: every real position's token (written into the keys) and position id (into the values), over every
 * layer and head, each channel offset differently. The next token is a hash of all of it, so a scheduler bug that
 * drops, shifts, truncates or swaps cache rows, lets padding or a stale row be read, or numbers positions wrongly
 * changes the output; a test sees it as a batched request no longer getting the tokens it gets alone
 * ({@link DirectDecoder#greedy}).
 *
 * <p>It refuses what a real model cannot run (padding in a row that has a cache, rows of unequal length without
 * position ids, a position past the context) instead of quietly computing something; it records its calls, and
 * fails those a test tells it to.
 *
 * <p>Not thread-safe, as the real one: one engine thread drives it. Give a reference decoder its own instance.
 */
final class FakeDecoderModel implements DecoderModel {
  static final int VOCAB = 64;
  /**
   * Cache elements are {@code 1 + token} (keys) or {@code -(1 + position)} (values) plus this times the channel:
   * small integers, exact in float32, different in every layer, head and dimension, and never the zeros of padding.
   */
  private static final int CHANNEL_STRIDE = 1 << 12;
  private static final int FLOAT_BYTES = 4;

  /** One forward pass as the scheduler asked for it: a prefill has {@code pastLength} 0, a decode step seqLen 1. */
  record Call(int rows, int seqLen, int pastLength) {}

  /** What a test makes a forward pass fail with, if anything: how the engine copes is behaviour too. */
  interface Fault {
    void check(Call call) throws ModelException;
  }

  private final ModelSpec spec;
  private final BufferPool pool = new BufferPool(16L << 20);
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private volatile Fault fault = call -> {};

  FakeDecoderModel(ModelSpec spec) {
    if (spec.kvPrecision() != ModelSpec.Precision.FLOAT32 || spec.vocabSize() != VOCAB) {
      throw new IllegalArgumentException("the fake model has a float32 cache and " + VOCAB + " tokens");
    }
    if (spec.contextLength() >= CHANNEL_STRIDE || spec.layers() * spec.kvHeads() * spec.headDim() > 1 << 10) {
      throw new IllegalArgumentException("positions and channels must stay exact in float32");
    }
    this.spec = spec;
  }

  /** Two layers of two KV heads of two dimensions: 64 cache bytes per token, small enough to reason about. */
  static ModelSpec spec(boolean positionIds, int contextLength, Set<Integer> eosTokenIds) {
    return new ModelSpec(2, 2, 2, ModelSpec.Precision.FLOAT32, VOCAB, positionIds, contextLength, eosTokenIds);
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  @Override
  public String device() {
    return "fake";
  }

  @Override
  public BufferPool pool() {
    return pool;
  }

  /** From now on, each forward pass first goes through {@code fault}. */
  void failWhen(Fault fault) {
    this.fault = fault;
  }

  /** Every forward pass so far, in order. */
  List<Call> calls() {
    return List.copyOf(calls);
  }

  @Override
  public Forward forward(int[] tokens, int seqLen, KvBlock past, int[] realTokens) throws ModelException {
    int rows = past.rows;
    int pastLength = past.length;
    int total = pastLength + seqLen;
    if (tokens.length != rows * seqLen || realTokens.length != rows) {
      throw new IllegalArgumentException("tokens and realTokens do not match a cache of " + rows + " rows");
    }
    Call call = new Call(rows, seqLen, pastLength);
    calls.add(call);
    fault.check(call);
    int[] lengths = past.rowLengths();
    int[][] positions = new int[rows][seqLen];
    for (int r = 0; r < rows; r++) {
      int pad = seqLen - realTokens[r];
      if (realTokens[r] < 1 || pad < 0) {
        throw new IllegalArgumentException("row " + r + " has " + realTokens[r] + " real tokens of " + seqLen);
      }
      if (pad > 0 && lengths[r] > 0) {
        throw new IllegalStateException("only a row without a cache can be padded");
      }
      if (!spec.hasPositionIds() && (lengths[r] != pastLength || pad > 0)) {
        throw new IllegalStateException("a model without position_ids cannot run padded rows together");
      }
      for (int s = 0; s < seqLen; s++) {
        int token = tokens[r * seqLen + s];
        if (token < 0 || token >= VOCAB) {
          throw new IllegalArgumentException("token " + token + " is not in the vocabulary");
        }
        // Numbered as OnnxModel numbers them. Without position ids the model can only count from the cache length,
        // which is why the scheduler must not mix lengths there: a wrong position changes the output.
        int position = s < pad ? 0 : spec.hasPositionIds() ? lengths[r] + s - pad : pastLength + s;
        if (s >= pad && position >= spec.contextLength()) {
          throw new IllegalStateException("position " + position + " is past the context of " + spec.contextLength());
        }
        positions[r][s] = position;
      }
      lengths[r] += realTokens[r];
    }

    KvBlock present = KvBlock.forOutput(spec, pool, rows, total, lengths);
    int rowBytes = spec.headDim() * FLOAT_BYTES;
    for (int layer = 0; layer < spec.layers(); layer++) {
      for (boolean value : new boolean[] {false, true}) {
        ByteBuffer from = past.tensor(layer, value);
        ByteBuffer to = present.tensor(layer, value);
        for (int r = 0; r < rows; r++) {
          for (int h = 0; h < spec.kvHeads(); h++) {
            // A real model concatenates past and new along the sequence: the past is kept as is, padding and all.
            to.put(offset(r, h, 0, total), from, offset(r, h, 0, pastLength), pastLength * rowBytes);
            for (int s = 0; s < seqLen; s++) {
              // Padding gets the pad token's entry at position 0, as a real model computes it: junk that only the
              // row lengths keep out of the result.
              int at = offset(r, h, pastLength + s, total);
              for (int d = 0; d < spec.headDim(); d++) {
                int channel = (layer * spec.kvHeads() + h) * spec.headDim() + d;
                float element = value
                    ? -(1 + positions[r][s] + CHANNEL_STRIDE * channel)
                    : 1 + tokens[r * seqLen + s] + CHANNEL_STRIDE * channel;
                to.putFloat(at + d * FLOAT_BYTES, element);
              }
            }
          }
        }
      }
    }
    float[][] logits = new float[rows][];
    for (int r = 0; r < rows; r++) {
      logits[r] = logits(present, r);
    }
    return new Forward(logits, present);
  }

  /**
   * A row's next-token logits from its real cache alone: one clear winner (a hash of every real element, in order),
   * the other tokens spread below it so that sampling at a temperature has choices to make.
   */
  private float[] logits(KvBlock cache, int row) {
    int length = cache.length;
    long hash = 1;
    for (int layer = 0; layer < spec.layers(); layer++) {
      for (boolean value : new boolean[] {false, true}) {
        ByteBuffer tensor = cache.tensor(layer, value);
        for (int h = 0; h < spec.kvHeads(); h++) {
          for (int pos = length - cache.rowLength(row); pos < length; pos++) {
            for (int d = 0; d < spec.headDim(); d++) {
              float element = tensor.getFloat(offset(row, h, pos, length) + d * FLOAT_BYTES);
              hash = 31 * hash + Float.floatToRawIntBits(element);
            }
          }
        }
      }
    }
    float[] logits = new float[VOCAB];
    for (int v = 0; v < VOCAB; v++) {
      logits[v] = (mix(hash + v) >>> 61) / 2f; // 0 to 3.5
    }
    logits[(int) Math.floorMod(mix(hash), (long) VOCAB)] = 8;
    return logits;
  }

  /** Byte offset of {@code [row, head, pos, 0]} in a cache tensor of {@code length} positions. */
  private int offset(int row, int head, int pos, int length) {
    return ((row * spec.kvHeads() + head) * length + pos) * spec.headDim() * FLOAT_BYTES;
  }

  /** A 64-bit finalizer (MurmurHash3's): nearby inputs give unrelated outputs. */
  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }

  @Override
  public void close() {}
}
