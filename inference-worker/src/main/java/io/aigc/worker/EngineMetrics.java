package io.aigc.worker;

/** What the engine reports as it runs; the worker turns it into Prometheus metrics. Called on the engine thread. */
interface EngineMetrics {
  EngineMetrics NONE = new EngineMetrics() {};

  /** One decode step of {@code rows} sequences (in {@code groups} ONNX runs) took {@code nanos}. */
  default void step(int rows, int groups, long nanos) {}

  /** One prompt of {@code tokens} tokens was prefilled in {@code nanos}. */
  default void prefill(int tokens, long nanos) {}

  /** A request finished: {@code outcome} went to its listener. */
  default void finished(GenerationOutcome outcome, int generatedTokens) {}
}
