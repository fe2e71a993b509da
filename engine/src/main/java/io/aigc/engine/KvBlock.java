package io.aigc.engine;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The key/value cache of a group of sequences decoded together: for every layer a key and a value tensor of shape
 * {@code [rows, kv_heads, length, head_dim]}, in direct buffers from a {@link BufferPool}.
 *
 * <p>Rows are right-aligned (left padding): row {@code r} holds {@code rowLengths[r]} tokens in the last positions,
 * and the positions before them are zeros that the attention mask hides. That way every row's next token goes at
 * the same position, {@code length}, which is what one batched ONNX run needs. Padding must be zeros, not stale
 * memory: an attention weight of exactly zero times a stale NaN would still be NaN.
 *
 * <p>Confined to the engine thread. Closing it returns its buffers to the pool.
 */
final class KvBlock implements AutoCloseable {
  final ModelSpec spec;
  private final BufferPool pool;
  final int rows;
  /** Positions per row, padding included. */
  final int length;
  private final int[] rowLengths;
  /** keys and values of layer i at 2i and 2i+1. */
  private final ByteBuffer[] tensors;
  private boolean closed;

  private KvBlock(ModelSpec spec, BufferPool pool, int rows, int length, int[] rowLengths) {
    this.spec = spec;
    this.pool = pool;
    this.rows = rows;
    this.length = length;
    this.rowLengths = rowLengths.clone();
    this.tensors = new ByteBuffer[2 * spec.layers()];
    long bytes = tensorBytes(spec, rows, length);
    for (int i = 0; i < tensors.length; i++) {
      tensors[i] = pool.acquire(bytes);
    }
  }

  /** An empty cache for {@code rows} new sequences: what a prefill starts from. */
  static KvBlock empty(ModelSpec spec, BufferPool pool, int rows) {
    return new KvBlock(spec, pool, rows, 0, new int[rows]);
  }

  /** Buffers for a run's present outputs; the model fills them. */
  static KvBlock forOutput(ModelSpec spec, BufferPool pool, int rows, int length, int[] rowLengths) {
    return new KvBlock(spec, pool, rows, length, rowLengths);
  }

  /** A row of some block: what {@link #gather} copies. */
  record Row(KvBlock block, int row) {}

  /**
   * A new block made of the given rows, in order, each right-aligned to the longest of them. Used to merge newly
   * prefilled sequences into a running batch and to drop finished ones (which also trims padding no row needs).
   */
  static KvBlock gather(ModelSpec spec, BufferPool pool, List<Row> rows) {
    int[] lengths = new int[rows.size()];
    int length = 0;
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = rows.get(i).block.rowLengths[rows.get(i).row];
      length = Math.max(length, lengths[i]);
    }
    KvBlock out = new KvBlock(spec, pool, rows.size(), length, lengths);
    int heads = spec.kvHeads();
    int tokenBytes = spec.headDim() * spec.kvElementBytes();
    for (int t = 0; t < out.tensors.length; t++) {
      ByteBuffer dst = out.tensors[t];
      for (int r = 0; r < lengths.length; r++) {
        KvBlock src = rows.get(r).block;
        int srcRow = rows.get(r).row;
        int pad = length - lengths[r];
        for (int h = 0; h < heads; h++) {
          int dstStart = ((r * heads + h) * length) * tokenBytes;
          zero(dst, dstStart, pad * tokenBytes);
          int srcStart = ((srcRow * heads + h) * src.length + (src.length - lengths[r])) * tokenBytes;
          dst.put(dstStart + pad * tokenBytes, src.tensors[t], srcStart, lengths[r] * tokenBytes);
        }
      }
    }
    return out;
  }

  /**
   * Writes row {@code srcRow} of {@code src} into row {@code dstRow} of this block, right-aligned, zeroing the
   * positions before it: a new sequence takes over a finished one's row without copying the other rows. The source
   * row must fit: {@code src.rowLength(srcRow) <= length()}.
   */
  void overwriteRow(int dstRow, KvBlock src, int srcRow) {
    int real = src.rowLengths[srcRow];
    if (real > length) {
      throw new IllegalArgumentException("a row of " + real + " tokens does not fit a block of " + length);
    }
    int heads = spec.kvHeads();
    int tokenBytes = spec.headDim() * spec.kvElementBytes();
    int pad = length - real;
    for (int t = 0; t < tensors.length; t++) {
      for (int h = 0; h < heads; h++) {
        int dstStart = ((dstRow * heads + h) * length) * tokenBytes;
        zero(tensors[t], dstStart, pad * tokenBytes);
        int srcStart = ((srcRow * heads + h) * src.length + (src.length - real)) * tokenBytes;
        tensors[t].put(dstStart + pad * tokenBytes, src.tensors[t], srcStart, real * tokenBytes);
      }
    }
    rowLengths[dstRow] = real;
  }

  /**
   * Marks row {@code r} as holding no tokens. Its stale contents stay, but the attention mask hides every position
   * before the row's next input, so they are never read.
   */
  void clearRow(int r) {
    rowLengths[r] = 0;
  }

  /** Real tokens in row {@code r}. */
  int rowLength(int r) {
    return rowLengths[r];
  }

  int[] rowLengths() {
    return rowLengths.clone();
  }

  /** The buffer of layer {@code layer}'s keys (or values), exactly as many bytes as the tensor. */
  ByteBuffer tensor(int layer, boolean value) {
    return tensors[2 * layer + (value ? 1 : 0)];
  }

  long bytes() {
    return tensors.length * tensorBytes(spec, rows, length);
  }

  static long tensorBytes(ModelSpec spec, int rows, int length) {
    return (long) rows * spec.kvHeads() * length * spec.headDim() * spec.kvElementBytes();
  }

  private static final byte[] ZEROS = new byte[64 * 1024];

  private static void zero(ByteBuffer dst, int start, int bytes) {
    for (int done = 0; done < bytes; done += ZEROS.length) {
      dst.put(start + done, ZEROS, 0, Math.min(ZEROS.length, bytes - done));
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      for (ByteBuffer b : tensors) {
        pool.release(b);
      }
    }
  }
}
