package io.aigc.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The plainest KV-cached greedy loop over a static batch: one prefill of all prompts, then one ONNX run per token,
 * no scheduler, no Kafka. It is what the model itself can do, so it is the benchmark's reference point and the
 * tests' definition of "the tokens the model gives when decoded directly".
 */
public final class DirectDecoder {
  private DirectDecoder() {}

  /**
   * Greedy continuations of {@code prompts}, which must all have the same length (a static batch needs no padding).
   * With {@code stopAtEos} a row's output ends before its first end-of-sequence token (the batch still runs
   * {@code maxTokens} steps, as a static batch does); without, every row gets exactly {@code maxTokens} tokens.
   */
  public static List<int[]> greedy(OnnxModel model, List<int[]> prompts, int maxTokens, boolean stopAtEos)
      throws DecoderModel.ModelException {
    return run(model, prompts, maxTokens, stopAtEos).tokens();
  }

  /** What {@link #timed} returns: the tokens, and how long the prefill and the whole run took. */
  public record Run(List<int[]> tokens, long prefillNanos, long totalNanos) {}

  /** {@link #greedy}, timed: the benchmark's measure of what the model itself can do. */
  public static Run timed(OnnxModel model, List<int[]> prompts, int maxTokens, boolean stopAtEos)
      throws DecoderModel.ModelException {
    return run(model, prompts, maxTokens, stopAtEos);
  }

  /** {@link #greedy} over any model. */
  static List<int[]> greedy(DecoderModel model, List<int[]> prompts, int maxTokens, boolean stopAtEos)
      throws DecoderModel.ModelException {
    return run(model, prompts, maxTokens, stopAtEos).tokens();
  }

  private static Run run(DecoderModel model, List<int[]> prompts, int maxTokens, boolean stopAtEos)
      throws DecoderModel.ModelException {
    long start = System.nanoTime();
    long prefill = 0;
    int rows = prompts.size();
    int length = prompts.get(0).length;
    int[] tokens = new int[rows * length];
    for (int r = 0; r < rows; r++) {
      if (prompts.get(r).length != length) {
        throw new IllegalArgumentException("a static batch needs prompts of equal length");
      }
      System.arraycopy(prompts.get(r), 0, tokens, r * length, length);
    }
    int[][] out = new int[rows][maxTokens];
    int[] produced = new int[rows];
    boolean[] ended = new boolean[rows];
    KvBlock cache = KvBlock.empty(model.spec(), model.pool(), rows);
    int seqLen = length;
    try {
      for (int step = 0; step < maxTokens; step++) {
        DecoderModel.Forward forward = model.forward(tokens, seqLen, cache);
        if (step == 0) {
          prefill = System.nanoTime() - start;
        }
        cache.close();
        cache = forward.present();
        tokens = new int[rows];
        for (int r = 0; r < rows; r++) {
          int next = Sampler.argmax(forward.logits()[r]);
          tokens[r] = next;
          if (stopAtEos && (ended[r] || model.spec().eosTokenIds().contains(next))) {
            ended[r] = true;
          } else {
            out[r][produced[r]++] = next;
          }
        }
        seqLen = 1;
        if (allTrue(ended)) {
          break;
        }
        if (length + step + 1 >= model.spec().contextLength()) {
          break;
        }
      }
    } finally {
      cache.close();
    }
    long total = System.nanoTime() - start;
    List<int[]> result = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      result.add(Arrays.copyOf(out[r], produced[r]));
    }
    return new Run(result, prefill, total);
  }

  private static boolean allTrue(boolean[] values) {
    for (boolean v : values) {
      if (!v) {
        return false;
      }
    }
    return true;
  }
}
