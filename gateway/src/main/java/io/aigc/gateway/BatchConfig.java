package io.aigc.gateway;

import io.aigc.runtime.Env;
import java.net.URI;
import java.net.URISyntaxException;
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
 *   <li>{@code AIGC_BATCH_GATEWAY_URL} (default: none, this gateway holds them): the gateway that holds the files
 *       and batches, as {@code http://host:port}. Set, this gateway keeps none: it forwards {@code /v1/files} and
 *       {@code /v1/batches} there, so that gateways scaled out behind one address all serve the Batch API
 * </ul>
 */
public record BatchConfig(Path dataDir, long maxFileBytes, double backlogShare, int maxInFlight,
    Duration completionWindow, URI gateway) {
  static final long DEFAULT_MAX_FILE_BYTES = 200L * 1024 * 1024;

  public BatchConfig {
    require(dataDir != null, "AIGC_DATA_DIR must be set");
    require(maxFileBytes >= 1, "AIGC_MAX_FILE_BYTES must be at least 1, got " + maxFileBytes);
    require(backlogShare > 0 && backlogShare <= 1, "AIGC_BATCH_BACKLOG_SHARE must be above 0 and at most 1, got "
        + backlogShare);
    require(maxInFlight >= 1, "AIGC_BATCH_MAX_IN_FLIGHT must be at least 1, got " + maxInFlight);
    require(completionWindow != null && !completionWindow.isNegative() && !completionWindow.isZero(),
        "AIGC_BATCH_COMPLETION_WINDOW must be positive");
    require(gateway == null || (("http".equals(gateway.getScheme()) || "https".equals(gateway.getScheme()))
        && gateway.getHost() != null && (gateway.getRawPath() == null || gateway.getRawPath().matches("/?"))
        && gateway.getRawQuery() == null && gateway.getRawFragment() == null && gateway.getRawUserInfo() == null),
        "AIGC_BATCH_GATEWAY_URL must be http://host[:port] or https://host[:port], without a path, got " + gateway);
  }

  /** Whether another gateway holds the files and batches, and this one forwards to it. */
  public boolean forwards() {
    return gateway != null;
  }

  static BatchConfig fromEnv(Env env, int maxInFlight) {
    return new BatchConfig(
        env.path("AIGC_DATA_DIR", Path.of(System.getProperty("java.io.tmpdir"), "aigc-gateway")),
        env.longValue("AIGC_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES),
        env.decimal("AIGC_BATCH_BACKLOG_SHARE", 0.5),
        env.integer("AIGC_BATCH_MAX_IN_FLIGHT", Math.max(1, maxInFlight / 2)),
        env.duration("AIGC_BATCH_COMPLETION_WINDOW", Duration.ofHours(24)),
        env.optional("AIGC_BATCH_GATEWAY_URL").map(BatchConfig::uri).orElse(null));
  }

  private static URI uri(String value) {
    try {
      return new URI(value.strip());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("AIGC_BATCH_GATEWAY_URL is not a URL: " + e.getMessage());
    }
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
