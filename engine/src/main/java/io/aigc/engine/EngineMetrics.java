package io.aigc.engine;

/** What the engine reports as it runs; the worker turns it into Prometheus metrics. Called on the engine thread. */
public interface EngineMetrics {
  EngineMetrics NONE = new EngineMetrics() {};

  /**
   * One decode step of {@code rows} sequences (in {@code groups} ONNX runs) took {@code nanos}; the longest batch
   * was {@code positions} tokens long, padding included (every row pays for it).
   */
  default void step(int rows, int groups, int positions, long nanos) {}

  /** One prompt of {@code tokens} tokens was prefilled in {@code nanos}. */
  default void prefill(int tokens, long nanos) {}

  /** Cache bytes copied to change the batch (a sequence joining or the batch being rebuilt). */
  default void cacheCopied(long bytes) {}

  /** A running request ended: {@code outcome} goes to its listener. */
  default void finished(GenerationOutcome outcome) {}
}
