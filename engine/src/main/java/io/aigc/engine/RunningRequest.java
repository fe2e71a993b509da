package io.aigc.engine;

import io.aigc.model.SamplingParams;
import io.aigc.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An admitted request and its choices, from its prefill to its outcome: which tokens each choice has, when each
 * stops, and what its listener is told. Confined to the engine thread.
 */
final class RunningRequest {
  private static final Logger log = LoggerFactory.getLogger(RunningRequest.class);

  final GenerationTask task;
  /** Chooses the tokens of every choice. */
  final Sampler sampler;
  /** KV-cache bytes admission reserved for it: its prompt plus max_tokens, for every choice. */
  final long reservedBytes;
  private final StopStrings stops;
  private final long queueMs;
  private final long prefillStartNanos;
  private final Sequence[] sequences;
  private long firstTokenNanos;
  private long lastTokenNanos;
  private int unfinished;
  private boolean done;

  /** {@code tokenizer} turns generated tokens into text for the stop strings; null when the request has none. */
  RunningRequest(GenerationTask task, Sampler sampler, TextTokenizer tokenizer, long reservedBytes, long queueMs,
      long prefillStartNanos) {
    this.task = task;
    this.sampler = sampler;
    this.stops = new StopStrings(tokenizer, task.params().stop());
    this.reservedBytes = reservedBytes;
    this.queueMs = queueMs;
    this.prefillStartNanos = prefillStartNanos;
    this.sequences = new Sequence[task.params().n()];
    this.unfinished = sequences.length;
  }

  /** One choice of a request: a row of the batch while it runs. */
  static final class Sequence {
    final RunningRequest owner;
    final int index;
    final SplittableRandom random;
    /** What the sampler's processors know of this choice's tokens: its own, never another's. */
    final TokenHistory history;
    private int[] tokens = new int[16];
    private int count;
    /** One per token when the request asked for log-probabilities, else null. */
    private final List<TokenLogprobs> logprobs;
    /** The newest token: sampled, not yet fed to the model. */
    private int pending;
    private FinishReason finishReason;

    private Sequence(RunningRequest owner, int index, SplittableRandom random) {
      this.owner = owner;
      this.index = index;
      this.random = random;
      this.history = owner.sampler.newHistory(owner.task.prompt());
      this.logprobs = owner.task.params().wantsLogprobs() ? new ArrayList<>() : null;
    }

    /** This choice's next token, from its row of next-token logits. */
    TokenStep sample(float[] logits) {
      return owner.sampler.next(logits, history, random);
    }

    boolean running() {
      return finishReason == null && !owner.done;
    }

    /** The token to feed the model at the next step. */
    int pending() {
      return pending;
    }

    private void append(TokenStep step) {
      if (count == tokens.length) {
        tokens = Arrays.copyOf(tokens, count * 2);
      }
      tokens[count++] = step.token();
      pending = step.token();
      history.add(step.token());
      if (logprobs != null) {
        logprobs.add(step.logprobs());
      }
    }
  }

  /** Choice {@code index}, drawing from {@code random}. */
  Sequence start(int index, SplittableRandom random) {
    Sequence s = new Sequence(this, index, random);
    sequences[index] = s;
    return s;
  }

  /** The prefill produced the first token of every choice at {@code nanos}. */
  void firstTokenAt(long nanos) {
    firstTokenNanos = nanos;
  }

  boolean done() {
    return done;
  }

  /**
   * Takes a token freshly sampled for {@code s}: it ends the choice (end of sequence, max_tokens, a stop string, the
   * context length) or becomes the choice's next input. Returns the request's outcome when this ended its last
   * running choice, else null. Stop strings are looked for only once the choice has min_tokens tokens, as in vLLM
   * (the sampler keeps the end-of-sequence tokens away until then).
   */
  GenerationOutcome accept(Sequence s, TokenStep step, ModelSpec spec) {
    lastTokenNanos = System.nanoTime();
    SamplingParams params = task.params();
    if (!params.ignoreEos() && spec.eosTokenIds().contains(step.token())) {
      return finish(s, FinishReason.STOP);
    }
    s.append(step);
    tell(() -> task.listener().tokens(s.index, step));
    if (s.count >= params.maxTokens()) {
      return finish(s, FinishReason.LENGTH);
    } else if (s.count >= params.minTokens() && stops.reached(task.prompt(), s.tokens, s.count)) {
      return finish(s, FinishReason.STOP);
    } else if (task.promptLength() + s.count >= spec.contextLength()) {
      return finish(s, FinishReason.LENGTH);
    }
    return null;
  }

  private GenerationOutcome finish(Sequence s, FinishReason reason) {
    s.finishReason = reason;
    if (--unfinished > 0 || done) {
      return null;
    }
    done = true;
    List<GenerationOutcome.Choice> choices = new ArrayList<>(sequences.length);
    for (Sequence q : sequences) {
      choices.add(new GenerationOutcome.Choice(q.index, Arrays.copyOf(q.tokens, q.count), q.finishReason,
          q.logprobs != null ? q.logprobs : List.of()));
    }
    return new GenerationOutcome(task.requestId(), choices, task.promptLength(), queueMs,
        millis(firstTokenNanos - prefillStartNanos), millis(lastTokenNanos - firstTokenNanos), null, null);
  }

  /** Ends the request with a failure; null when it had already ended. */
  GenerationOutcome fail(Failure failure, String message) {
    if (done) {
      return null;
    }
    done = true;
    return GenerationOutcome.failed(task.requestId(), task.promptLength(), failure, message);
  }

  /** Ends the request without an outcome: nobody is told (its partition's new owner redoes it). */
  void drop() {
    done = true;
  }

  /** Calls the listener, which must not take the engine down with it. */
  static void tell(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.error("a generation listener failed", e);
    }
  }

  private static long millis(long nanos) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nanos));
  }
}
