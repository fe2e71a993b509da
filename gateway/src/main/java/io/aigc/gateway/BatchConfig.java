package io.aigc.gateway;

import io.aigc.runtime.Env;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The Batch API's part of the gateway's configuration.
 *
 * <ul>
 *   <li>{@code AIGC_DATA_DIR} (default {@code aigc-gateway} in {@code java.io.tmpdir}): where uploaded files, output
 *       files and batch state live, so they survive a restart. One instance per folder (it is locked)
 *   <li>{@code AIGC_MAX_FILE_BYTES} (default 209715200, OpenAI's 200 MB): the largest upload to {@code /v1/files}
 *   <li>{@code AIGC_BATCH_BACKLOG_SHARE} (default 0.5): batches submit lines only while the pipeline's backlog is
 *       under this share of {@code AIGC_MAX_BACKLOG}; the rest of the bound is interactive callers' alone, so a
 *       batch never makes them wait long nor trips their 429s
 *   <li>{@code AIGC_BATCH_MAX_IN_FLIGHT} (default half of {@code AIGC_MAX_IN_FLIGHT}, at least 1): lines of all
 *       batches unfinished at once; the other in-flight slots stay free for interactive callers
 *   <li>{@code AIGC_BATCH_COMPLETION_WINDOW} (default 24h): how long the {@code "24h"} completion window really
 *       is; a batch with lines unfinished then is {@code expired} (shorter in tests)
 * </ul>
 */
record BatchConfig(Path dataDir, long maxFileBytes, double backlogShare, int maxInFlight, Duration completionWindow) {
  static final long DEFAULT_MAX_FILE_BYTES = 200L * 1024 * 1024;

  BatchConfig {
    require(dataDir != null, "AIGC_DATA_DIR must be set");
    require(maxFileBytes >= 1, "AIGC_MAX_FILE_BYTES must be at least 1, got " + maxFileBytes);
    require(backlogShare > 0 && backlogShare <= 1, "AIGC_BATCH_BACKLOG_SHARE must be above 0 and at most 1, got "
        + backlogShare);
    require(maxInFlight >= 1, "AIGC_BATCH_MAX_IN_FLIGHT must be at least 1, got " + maxInFlight);
    require(completionWindow != null && !completionWindow.isNegative() && !completionWindow.isZero(),
        "AIGC_BATCH_COMPLETION_WINDOW must be positive");
  }

  static BatchConfig fromEnv(Env env, int maxInFlight) {
    return new BatchConfig(
        env.path("AIGC_DATA_DIR", Path.of(System.getProperty("java.io.tmpdir"), "aigc-gateway")),
        env.longValue("AIGC_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES),
        env.decimal("AIGC_BATCH_BACKLOG_SHARE", 0.5),
        env.integer("AIGC_BATCH_MAX_IN_FLIGHT", Math.max(1, maxInFlight / 2)),
        env.duration("AIGC_BATCH_COMPLETION_WINDOW", Duration.ofHours(24)));
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
