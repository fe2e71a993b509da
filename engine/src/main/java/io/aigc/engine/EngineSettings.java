package io.aigc.engine;

/**
 * Bounds of the {@link GenerationEngine}'s batch.
 *
 * @param maxBatchRows most sequences decoded in one step (a request with n choices takes n rows)
 * @param kvBudgetBytes cache bytes the running requests may reserve; a request is admitted only when its prompt
 *     plus max_tokens fits for all its choices, so an admitted request always finishes
 * @param maxPrefillTokensPerStep prompt tokens prefilled between two decode steps, so a burst of new requests
 *     delays the running ones by a bounded amount
 */
public record EngineSettings(int maxBatchRows, long kvBudgetBytes, int maxPrefillTokensPerStep) {
  public EngineSettings {
    if (maxBatchRows < 1 || kvBudgetBytes < 1 || maxPrefillTokensPerStep < 1) {
      throw new IllegalArgumentException("engine bounds must be positive");
    }
  }
}
