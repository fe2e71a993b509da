package io.aigc.engine;

import io.aigc.model.SamplingParams;

/**
 * What one step added to a choice: the token and, when the request asked for them, its log-probabilities.
 *
 * @param token the generated token id
 * @param logprobs null unless the request's {@link SamplingParams#logprobs()} is at least 0
 */
public record TokenStep(int token, TokenLogprobs logprobs) {}
