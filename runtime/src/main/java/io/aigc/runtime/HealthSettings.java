package io.aigc.runtime;

/**
 * Where a service without an HTTP server of its own serves {@code /healthz}, {@code /readyz} and {@code /metrics}:
 * {@code AIGC_METRICS_HOST} (default {@code 0.0.0.0}) and {@code AIGC_METRICS_PORT} (each service its own default;
 * 0 picks a free port).
 */
public record HealthSettings(String host, int port) {
  public HealthSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("AIGC_METRICS_PORT must be between 0 and 65535, got " + port);
    }
  }

  public static HealthSettings fromEnv(Env env, int defaultPort) {
    return new HealthSettings(env.string("AIGC_METRICS_HOST", "0.0.0.0"), env.integer("AIGC_METRICS_PORT", defaultPort));
  }
}
