package io.aigc.model;

import java.util.List;
import java.util.Map;

/**
 * How the tokens of one request are chosen and when they stop. Build one with {@link #builder()} (OpenAI's defaults)
 * or {@link #greedy(int)}; every option left at its default costs nothing when sampling.
 *
 * <p>One value for every layer that speaks of sampling: a caller's request ({@code RequestSpec} in the contract) holds
 * one, and the engine samples with one, so the parameters, their defaults and their intrinsic ranges are written
 * once. It lives beside {@link ModelDirectory} for the reason Hugging Face keeps a model's generation defaults in its
 * folder: it is how a model is asked, and it needs neither Kafka, Avro nor ONNX Runtime. A deployment's narrower
 * limits (the largest max_tokens, OpenAI's messages) are the contract's {@code RequestRules}.
 *
 * @param maxTokens at most this many generated tokens per choice
 * @param temperature 0 (or anything below 1e-5, as in vLLM) is greedy: the argmax after bias and penalties;
 *     otherwise logits are divided by it before truncation and sampling
 * @param topP nucleus sampling: the smallest set of most likely tokens whose probability reaches it; 1 disables
 * @param topK sample among the k most likely tokens; 0 disables
 * @param n choices generated from the same prompt
 * @param seed makes sampling reproducible (choice i uses a stream derived from seed and i); null is random
 * @param stop generation stops once the text contains one of these
 * @param ignoreEos generate maxTokens tokens even past the end-of-sequence token (benchmarks)
 * @param presencePenalty OpenAI's, in [-2, 2]: subtracted once from the logit of every token the choice has generated
 * @param frequencyPenalty OpenAI's, in [-2, 2]: subtracted from a token's logit once per time the choice generated it
 * @param repetitionPenalty Hugging Face's and vLLM's, above 0, 1 disables: the logit of a token in the prompt or the
 *     choice's output is divided by it when positive and multiplied by it when negative
 * @param minP in [0, 1], 0 disables: drop tokens less likely than {@code minP} times the most likely one
 * @param minTokens at least this many tokens per choice: until then the end-of-sequence tokens cannot be sampled and
 *     stop strings are not looked for (as vLLM does); at most maxTokens
 * @param logitBias token id to a bias in [-100, 100] added to its logit: -100 bans the token, +100 all but forces it
 * @param logprobs -1: none; 0 to {@link #MAX_LOGPROBS}: report each generated token's log-probability and that many
 *     most likely alternatives (the engine's {@code TokenLogprobs})
 */
public record SamplingParams(int maxTokens, double temperature, double topP, int topK, int n, Long seed,
    List<String> stop, boolean ignoreEos, double presencePenalty, double frequencyPenalty, double repetitionPenalty,
    double minP, int minTokens, Map<Integer, Double> logitBias, int logprobs) {

  /** The most alternatives a token's log-probabilities may list (what OpenAI's chat API allows). */
  public static final int MAX_LOGPROBS = 20;
  /** OpenAI's default token limit, which the builder starts from (a deployment may allow fewer). */
  public static final int DEFAULT_MAX_TOKENS = 16;

  /** Below this temperature sampling is greedy, as in vLLM: dividing by it would overflow the logits. */
  private static final double GREEDY_BELOW = 1e-5;

  public SamplingParams {
    if (maxTokens < 1) {
      throw new IllegalArgumentException("maxTokens must be at least 1");
    }
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be a finite number at least 0");
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1]");
    }
    if (topK < 0 || n < 1) {
      throw new IllegalArgumentException("topK must be at least 0 and n at least 1");
    }
    if (!(Math.abs(presencePenalty) <= 2 && Math.abs(frequencyPenalty) <= 2)) {
      throw new IllegalArgumentException("presencePenalty and frequencyPenalty must be in [-2, 2]");
    }
    if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
      throw new IllegalArgumentException("repetitionPenalty must be a finite number above 0");
    }
    if (!(minP >= 0 && minP <= 1)) {
      throw new IllegalArgumentException("minP must be in [0, 1]");
    }
    if (minTokens < 0 || minTokens > maxTokens) {
      throw new IllegalArgumentException("minTokens must be in [0, maxTokens]");
    }
    if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
      throw new IllegalArgumentException("logprobs must be -1 (none) or in [0, " + MAX_LOGPROBS + "]");
    }
    stop = List.copyOf(stop);
    logitBias = Map.copyOf(logitBias);
    logitBias.forEach((token, bias) -> {
      if (token < 0 || !(Math.abs(bias) <= 100)) {
        throw new IllegalArgumentException("logitBias maps token ids (at least 0) to biases in [-100, 100]");
      }
    });
  }

  /** Argmax decoding of at most {@code maxTokens} tokens, nothing else. */
  public static SamplingParams greedy(int maxTokens) {
    return builder().maxTokens(maxTokens).temperature(0).build();
  }

  /** OpenAI's defaults: 16 tokens, temperature 1, one choice, no truncation, penalty, bias or log-probabilities. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these parameters. */
  public Builder toBuilder() {
    return new Builder().maxTokens(maxTokens).temperature(temperature).topP(topP).topK(topK).n(n).seed(seed)
        .stop(stop).ignoreEos(ignoreEos).presencePenalty(presencePenalty).frequencyPenalty(frequencyPenalty)
        .repetitionPenalty(repetitionPenalty).minP(minP).minTokens(minTokens).logitBias(logitBias)
        .logprobs(logprobs);
  }

  public boolean isGreedy() {
    return temperature < GREEDY_BELOW;
  }

  public boolean wantsLogprobs() {
    return logprobs >= 0;
  }

  /**
   * Builds {@link SamplingParams} from OpenAI's defaults (vLLM's for its extensions: no top-k, no min-p, no penalty);
   * {@link #build} checks the values.
   */
  public static final class Builder {
    private int maxTokens = DEFAULT_MAX_TOKENS;
    private double temperature = 1;
    private double topP = 1;
    /** 0 disables top-k. */
    private int topK;
    private int n = 1;
    private Long seed;
    private List<String> stop = List.of();
    private boolean ignoreEos;
    private double presencePenalty;
    private double frequencyPenalty;
    private double repetitionPenalty = 1;
    private double minP;
    private int minTokens;
    private Map<Integer, Double> logitBias = Map.of();
    private int logprobs = -1;

    private Builder() {}

    public Builder maxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    public Builder temperature(double temperature) {
      this.temperature = temperature;
      return this;
    }

    public Builder topP(double topP) {
      this.topP = topP;
      return this;
    }

    public Builder topK(int topK) {
      this.topK = topK;
      return this;
    }

    public Builder n(int n) {
      this.n = n;
      return this;
    }

    public Builder seed(Long seed) {
      this.seed = seed;
      return this;
    }

    public Builder stop(List<String> stop) {
      this.stop = stop;
      return this;
    }

    public Builder ignoreEos(boolean ignoreEos) {
      this.ignoreEos = ignoreEos;
      return this;
    }

    public Builder presencePenalty(double presencePenalty) {
      this.presencePenalty = presencePenalty;
      return this;
    }

    public Builder frequencyPenalty(double frequencyPenalty) {
      this.frequencyPenalty = frequencyPenalty;
      return this;
    }

    public Builder repetitionPenalty(double repetitionPenalty) {
      this.repetitionPenalty = repetitionPenalty;
      return this;
    }

    public Builder minP(double minP) {
      this.minP = minP;
      return this;
    }

    public Builder minTokens(int minTokens) {
      this.minTokens = minTokens;
      return this;
    }

    public Builder logitBias(Map<Integer, Double> logitBias) {
      this.logitBias = logitBias;
      return this;
    }

    public Builder logprobs(int logprobs) {
      this.logprobs = logprobs;
      return this;
    }

    public SamplingParams build() {
      return new SamplingParams(maxTokens, temperature, topP, topK, n, seed, stop, ignoreEos, presencePenalty,
          frequencyPenalty, repetitionPenalty, minP, minTokens, logitBias, logprobs);
    }
  }
}
