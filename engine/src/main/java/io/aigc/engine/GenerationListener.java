package io.aigc.engine;

import java.util.function.Consumer;

/**
 * Where the engine reports one request's progress: the tokens each step adds to each choice, as they are sampled,
 * then the outcome, exactly once. Called on the engine thread, so it must return quickly (hand the work to another
 * thread, or to a Kafka producer whose {@code send} does not block).
 */
public interface GenerationListener {
  /**
   * Choice {@code choice} gained a token in this step, with its log-probabilities if the request asked for them
   * (one call per decode step, in order; an end-of-sequence token that ends the choice is never reported).
   */
  default void tokens(int choice, TokenStep step) {}

  /** The request ended: every choice finished, or it failed. No call follows. */
  void finished(GenerationOutcome outcome);

  /** A listener that wants the outcome only. */
  static GenerationListener onFinished(Consumer<GenerationOutcome> finished) {
    return finished::accept;
  }
}
