package io.aigc.engine;

import java.util.List;

/**
 * How the tokens of one request are chosen and when they stop.
 *
 * @param maxTokens at most this many generated tokens per choice
 * @param temperature 0 is greedy (argmax); otherwise logits are divided by it before sampling
 * @param topP nucleus sampling: the smallest set of most likely tokens whose probability reaches it; 1 disables
 * @param topK sample among the k most likely tokens; 0 disables
 * @param n choices generated from the same prompt
 * @param seed makes sampling reproducible (choice i uses a stream derived from seed and i); null is random
 * @param stop generation stops once the text contains one of these
 * @param ignoreEos generate maxTokens tokens even past the end-of-sequence token (benchmarks)
 */
public record SamplingParams(int maxTokens, double temperature, double topP, int topK, int n, Long seed,
    List<String> stop, boolean ignoreEos) {

  public SamplingParams {
    if (maxTokens < 1) {
      throw new IllegalArgumentException("maxTokens must be at least 1");
    }
    if (!(temperature >= 0)) {
      throw new IllegalArgumentException("temperature must be at least 0");
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1]");
    }
    if (topK < 0 || n < 1) {
      throw new IllegalArgumentException("topK must be at least 0 and n at least 1");
    }
    stop = List.copyOf(stop);
  }

  public static SamplingParams greedy(int maxTokens) {
    return new SamplingParams(maxTokens, 0, 1, 0, 1, null, List.of(), false);
  }

  public boolean isGreedy() {
    return temperature == 0;
  }
}
