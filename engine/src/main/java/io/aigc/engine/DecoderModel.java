package io.aigc.engine;

import java.util.Arrays;

/**
 * The one operation the scheduler needs from a model: run some tokens after a cache. {@link OnnxModel} is the real
 * one; the tests' fake model lets the scheduler's policies be checked without ONNX Runtime. A second real adapter
 * (one that keeps the cache on the GPU, say) implements this too, and the scheduler does not change.
 *
 * <p>Not thread-safe: one engine thread drives it.
 */
interface DecoderModel extends AutoCloseable {
  ModelSpec spec();

  /** Where the model runs, for logs: "cpu", "cuda:0". */
  String device();

  /** Where caches are allocated from. */
  BufferPool pool();

  /** The result of a forward pass: each row's next-token logits and the cache grown by the input tokens. */
  record Forward(float[][] logits, KvBlock present) {}

  /**
   * Feeds {@code tokens} (row-major, {@code rows × seqLen}) after the cache {@code past}. In row {@code r} the last
   * {@code realTokens[r]} tokens are real and the ones before are left padding: hidden by the attention mask and not
   * counted in the row's length. Padding is allowed only in a row without a cache (a prefill), so every row's cache
   * stays contiguous and right-aligned. A model without position ids numbers positions from {@code past.length()}
   * for every row, so it can run only rows without padding of equal length.
   */
  Forward forward(int[] tokens, int seqLen, KvBlock past, int[] realTokens) throws ModelException;

  /** {@link #forward(int[], int, KvBlock, int[])} with every input token real. */
  default Forward forward(int[] tokens, int seqLen, KvBlock past) throws ModelException {
    int[] real = new int[past.rows];
    Arrays.fill(real, seqLen);
    return forward(tokens, seqLen, past, real);
  }

  @Override
  void close();

  /** The model failed to run; the engine fails the requests of that run and carries on. */
  final class ModelException extends Exception {
    private static final long serialVersionUID = 1L;

    ModelException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
