package io.aigc.engine;

/**
 * What the processors of one choice know of its tokens, updated with each token the choice accepts. Only what an
 * active processor reads is kept: a request without penalties keeps a count and nothing else. Each choice has its
 * own, so penalties count only that choice's tokens, whatever else shares the batch.
 */
final class TokenHistory {
  /** Times each token was generated; only when built to count them. */
  final TokenCounts generated;
  /** Tokens of the prompt or the output (their counts mean nothing); only when built with the prompt. */
  final TokenCounts seen;
  private int generatedCount;

  /**
   * @param countGenerated keep how often each token was generated (presence and frequency penalties)
   * @param prompt when not null, also keep which tokens the prompt and the output hold (repetition penalty)
   */
  TokenHistory(boolean countGenerated, int[] prompt) {
    this.generated = countGenerated ? new TokenCounts() : null;
    this.seen = prompt != null ? new TokenCounts() : null;
    if (prompt != null) {
      for (int token : prompt) {
        seen.add(token);
      }
    }
  }

  /** The choice accepted {@code token} as its next one. */
  void add(int token) {
    generatedCount++;
    if (generated != null) {
      generated.add(token);
    }
    if (seen != null) {
      seen.add(token);
    }
  }

  /** Tokens generated so far. */
  int generatedCount() {
    return generatedCount;
  }
}
