package io.aigc.engine;

import io.aigc.model.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Picks the next token of one request's choices from a row of logits: the request's active {@link LogitsProcessor}s,
 * in the order vLLM and Hugging Face apply them, then the draw.
 * <ol>
 *   <li>On the model's logits: {@link MinTokens}, {@link LogitBias}, {@link RepetitionPenalty},
 *       {@link PresenceFrequencyPenalty}. These can change the argmax, so a greedy request gets them too.
 *   <li>Sampling only: {@link Temperature}, then the truncations {@link TopK}, {@link TopP} and {@link MinP}
 *       (Hugging Face's order; vLLM's newer engine applies min-p before top-k and top-p). None of them moves the
 *       argmax, so a greedy request skips them.
 *   <li>The draw: the argmax (ties to the lower id) when greedy, else one draw from the choice's random stream.
 * </ol>
 *
 * <p>Built once per request with only the processors it turned on: a plain greedy request runs no processor and
 * copies nothing. The model's row is never written (the choices of one prompt share their prefill row); processors
 * work on a copy in the engine's {@link Scratch}, and log-probabilities are read from the untouched row (see
 * {@link TokenLogprobs} for why).
 *
 * <p>Deterministic: the result depends only on the row, the parameters, the choice's own {@link TokenHistory} and
 * its random stream, never on the batch. Ties are broken by token id and sampling arithmetic is in double, so a
 * seeded request draws the same tokens whatever shares its batch.
 */
final class Sampler {
  private final LogitsProcessor[] processors;
  private final boolean greedy;
  private final int logprobs;
  private final boolean countGenerated;
  private final boolean keepSeen;
  private final Scratch scratch;

  private Sampler(List<LogitsProcessor> processors, SamplingParams params, Scratch scratch) {
    this.processors = processors.toArray(new LogitsProcessor[0]);
    this.greedy = params.isGreedy();
    this.logprobs = params.logprobs();
    this.countGenerated = params.presencePenalty() != 0 || params.frequencyPenalty() != 0;
    this.keepSeen = params.repetitionPenalty() != 1;
    this.scratch = scratch;
  }

  /** The sampler of a request with {@code params}, on a model ending sequences with {@code eosTokenIds}. */
  static Sampler of(SamplingParams params, Set<Integer> eosTokenIds, Scratch scratch) {
    List<LogitsProcessor> chain = new ArrayList<>();
    if (params.minTokens() > 0 && !params.ignoreEos() && !eosTokenIds.isEmpty()) {
      chain.add(new MinTokens(params.minTokens(), eosTokenIds));
    }
    if (!params.logitBias().isEmpty()) {
      chain.add(new LogitBias(params.logitBias()));
    }
    if (params.repetitionPenalty() != 1) {
      chain.add(new RepetitionPenalty(params.repetitionPenalty()));
    }
    if (params.presencePenalty() != 0 || params.frequencyPenalty() != 0) {
      chain.add(new PresenceFrequencyPenalty(params.presencePenalty(), params.frequencyPenalty()));
    }
    if (!params.isGreedy()) {
      if (params.temperature() != 1) {
        chain.add(new Temperature(params.temperature()));
      }
      if (params.topK() > 0) {
        chain.add(new TopK(params.topK(), scratch));
      }
      if (params.topP() < 1) {
        chain.add(new TopP(params.topP(), scratch));
      }
      if (params.minP() > 0) {
        chain.add(new MinP(params.minP()));
      }
    }
    return new Sampler(chain, params, scratch);
  }

  /** The processors this sampler runs, in order. */
  List<LogitsProcessor> processors() {
    return List.of(processors);
  }

  /** A fresh history for one choice of a request with {@code prompt}, keeping only what the processors read. */
  TokenHistory newHistory(int[] prompt) {
    return new TokenHistory(countGenerated, keepSeen ? prompt : null);
  }

  /**
   * The next token of the choice with {@code history}, drawing from {@code random} unless greedy, and its
   * log-probabilities if the request asked for them. {@code logits} is only read.
   */
  TokenStep next(float[] logits, TokenHistory history, SplittableRandom random) {
    float[] work = logits;
    if (processors.length > 0) {
      work = scratch.copy(logits);
      for (LogitsProcessor p : processors) {
        p.apply(work, history);
      }
    }
    int token = greedy ? argmax(work) : draw(work, random, scratch.weights(work.length));
    return new TokenStep(token, logprobs >= 0 ? logprobs(logits, token, logprobs) : null);
  }

  /** The highest logit's token, the lowest id among equals. */
  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /**
   * Draws a token with probability softmax({@code logits}), skipping tokens at minus infinity: exactly one number
   * from {@code random} per call, so a choice's stream advances the same way whatever its tokens.
   */
  static int draw(float[] logits, SplittableRandom random, double[] weights) {
    double u = random.nextDouble();
    float max = Float.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    if (!(max > Float.NEGATIVE_INFINITY)) {
      return argmax(logits); // nothing left to draw from (or NaN logits): the model's problem, not a crash here
    }
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      double w = logits[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp((double) logits[i] - max);
      weights[i] = w;
      sum += w;
    }
    u *= sum;
    int last = -1;
    for (int i = 0; i < logits.length; i++) {
      if (weights[i] > 0) {
        last = i;
        u -= weights[i];
        if (u < 0) {
          return i;
        }
      }
    }
    return last; // rounding left u a hair above zero
  }

  /**
   * The log-softmax of {@code logits} at {@code token}, and the {@code top} most likely tokens (ties to the lower id)
   * with theirs. One pass for the normalizer, one for the top: no sort, no vocabulary-sized array.
   */
  static TokenLogprobs logprobs(float[] logits, int token, int top) {
    float max = Float.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    double sum = 0;
    for (float logit : logits) {
      sum += Math.exp((double) logit - max);
    }
    double logNormalizer = max + Math.log(sum);
    int[] best = new int[Math.min(top, logits.length)];
    int size = 0;
    for (int i = 0; i < logits.length && best.length > 0; i++) {
      // Ids come in ascending order, so an equal logit never displaces an earlier token.
      if (size == best.length && !(logits[i] > logits[best[size - 1]])) {
        continue;
      }
      int j = size < best.length ? size++ : size - 1;
      while (j > 0 && logits[i] > logits[best[j - 1]]) {
        best[j] = best[j - 1];
        j--;
      }
      best[j] = i;
    }
    List<TokenLogprobs.Alternative> alternatives = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      alternatives.add(new TokenLogprobs.Alternative(best[i], logits[best[i]] - logNormalizer));
    }
    return new TokenLogprobs(logits[token] - logNormalizer, alternatives);
  }

  /**
   * Buffers the samplers of one engine thread share, grown to the vocabulary once and reused by every step of every
   * request: a step allocates no vocabulary-sized array. Confined to that thread.
   */
  static final class Scratch {
    private float[] logits = new float[0];
    private long[] keys = new long[0];
    private double[] weights = new double[0];

    /** {@code raw} copied into the scratch row, which stays valid until the next call. */
    float[] copy(float[] raw) {
      if (logits.length != raw.length) {
        if (raw.length > ByLogit.MAX_TOKENS) {
          throw new IllegalArgumentException("vocabularies of more than " + ByLogit.MAX_TOKENS + " tokens");
        }
        logits = new float[raw.length];
      }
      System.arraycopy(raw, 0, logits, 0, raw.length);
      return logits;
    }

    long[] keys(int size) {
      if (keys.length < size) {
        keys = new long[size];
      }
      return keys;
    }

    double[] weights(int size) {
      if (weights.length < size) {
        weights = new double[size];
      }
      return weights;
    }
  }

  @Override
  public String toString() {
    return "Sampler" + Arrays.stream(processors).map(p -> p.getClass().getSimpleName()).toList()
        + (greedy ? " greedy" : " draw");
  }
}
