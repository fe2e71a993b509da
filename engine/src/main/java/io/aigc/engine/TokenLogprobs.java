package io.aigc.engine;

import java.util.List;

/**
 * What the model thought of one generated token: its log-probability and the most likely alternatives, as OpenAI's
 * {@code logprobs} reports them.
 *
 * <p>They are the log-softmax of the logits exactly as the model gave them, before logit bias, penalties,
 * temperature or truncation, as vLLM reports by default ({@code logprobs_mode=raw_logprobs}) and as OpenAI's do not
 * move with temperature. So they describe the model, whatever the sampling knobs: a token forced by a bias of +100
 * still shows how unlikely the model found it, and a token outside top_k or top_p gets a finite number rather than
 * minus infinity, which JSON cannot carry.
 *
 * @param logprob the generated token's natural-log probability, at most 0
 * @param top the requested number of most likely tokens, most likely first (ties by lower id); the generated token
 *     is among them only if it ranks there
 */
public record TokenLogprobs(double logprob, List<Alternative> top) {
  public TokenLogprobs {
    top = List.copyOf(top);
  }

  /** One of the most likely tokens at a step and its log-probability. */
  public record Alternative(int token, double logprob) {}
}
