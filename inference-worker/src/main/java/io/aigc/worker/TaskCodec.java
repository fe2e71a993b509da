package io.aigc.worker;

import io.aigc.engine.Failure;
import io.aigc.engine.GenerationListener;
import io.aigc.engine.GenerationOutcome;
import io.aigc.engine.GenerationTask;
import io.aigc.engine.ModelSpec;
import io.aigc.engine.TokenLogprobs;
import io.aigc.model.SamplingParams;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.Events;
import io.aigc.schemas.GeneratedChoice;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationParams;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Timings;
import io.aigc.schemas.TokenLogprob;
import io.aigc.schemas.TokenizedRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The contract's events in the engine's terms and back: a {@link TokenizedRequest} becomes a {@link GenerationTask},
 * a {@link GenerationOutcome} a {@link GeneratedSequence}, a {@link Failure} an {@link ErrorCodes} code. Pure.
 */
final class TaskCodec {
  private TaskCodec() {}

  /**
   * What makes a tokenized request impossible to generate, or empty. A producer may bypass the gateway and the
   * tokenizer, so the contract's rules are checked again, and the prompt's ids against the model's vocabulary.
   */
  static Optional<String> problemWith(String key, TokenizedRequest tokenized, ModelSpec spec) {
    List<RequestRules.Violation> violations = RequestRules.check(key, tokenized.getRequest(),
        RequestRules.Limits.NONE);
    if (!violations.isEmpty()) {
      return Optional.of(violations.get(0).message());
    }
    List<Integer> ids = tokenized.getPromptTokenIds();
    if (ids.isEmpty()) {
      return Optional.of("prompt_token_ids is empty");
    }
    for (int id : ids) {
      if (id < 0 || id >= spec.vocabSize()) {
        return Optional.of("prompt_token_ids contains " + id + ", outside the vocabulary [0, " + spec.vocabSize()
            + ")");
      }
    }
    return Optional.empty();
  }

  static GenerationTask task(TokenizedRequest tokenized, GenerationListener listener) {
    GenerationRequest request = tokenized.getRequest();
    return new GenerationTask(request.getRequestId(),
        tokenized.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray(),
        samplingParams(request.getRequestId(), request.getParams()), Instant.ofEpochMilli(request.getCreatedAt()),
        request.getDeadline() == null ? null : Instant.ofEpochMilli(request.getDeadline()), listener);
  }

  /**
   * The contract's parameters in the engine's terms. A request without a seed is seeded from its id: a worker that
   * redoes it after another one crashed then draws the very same tokens, so the text already streamed for it stays
   * true, while two requests (two ids) still draw differently.
   */
  static SamplingParams samplingParams(String requestId, GenerationParams p) {
    SamplingParams params = RequestSpec.fromParams(p);
    return params.seed() != null ? params : params.toBuilder().seed(seedOf(requestId)).build();
  }

  /** A seed that depends on the request id only (its UTF-8 bytes, hashed with FNV-1a 64). */
  static long seedOf(String requestId) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : requestId.getBytes(StandardCharsets.UTF_8)) {
      hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
    }
    return hash;
  }

  /** The record the outcome becomes on the generated topic, tokens or error. */
  static GeneratedSequence generated(TokenizedRequest tokenized, GenerationOutcome outcome, String producer) {
    if (outcome.isFailure()) {
      return Events.failed(tokenized.getRequest(), tokenized.getModel(), tokenized.getPromptTokenIds(),
          errorCode(outcome.failure()), outcome.message(), producer);
    }
    List<GeneratedChoice> choices = new ArrayList<>();
    for (GenerationOutcome.Choice c : outcome.choices()) {
      List<Integer> ids = new ArrayList<>(c.tokenCount());
      for (int t : c.tokens()) {
        ids.add(t);
      }
      choices.add(new GeneratedChoice(c.index(), ids, c.finishReason().code(),
          tokenized.getRequest().getParams().getLogprobs() == null ? null : logprobs(c.tokens(), c.logprobs())));
    }
    return GeneratedSequence.newBuilder()
        .setRequest(tokenized.getRequest())
        .setModel(tokenized.getModel())
        .setPromptTokenIds(tokenized.getPromptTokenIds())
        .setStatus(CompletionStatus.OK)
        .setError(null)
        .setChoices(choices)
        .setTimings(new Timings(outcome.queueMs(), outcome.timeToFirstTokenMs(), outcome.decodeMs()))
        .setProducer(producer)
        .build();
  }

  /** Each token's log-probabilities as the contract carries them (none for a choice that ended at once). */
  private static List<io.aigc.schemas.TokenLogprobs> logprobs(int[] tokens, List<TokenLogprobs> perToken) {
    List<io.aigc.schemas.TokenLogprobs> out = new ArrayList<>(perToken.size());
    for (int i = 0; i < perToken.size(); i++) {
      TokenLogprobs t = perToken.get(i);
      out.add(new io.aigc.schemas.TokenLogprobs(tokens[i], t.logprob(),
          t.top().stream().map(a -> new TokenLogprob(a.token(), a.logprob())).toList()));
    }
    return out;
  }

  static String errorCode(Failure failure) {
    return switch (failure) {
      case CANCELLED -> ErrorCodes.CANCELLED;
      case DEADLINE_EXCEEDED -> ErrorCodes.DEADLINE_EXCEEDED;
      case DOES_NOT_FIT -> ErrorCodes.INVALID_REQUEST;
      case MODEL_FAILED -> ErrorCodes.INTERNAL_ERROR;
    };
  }
}
