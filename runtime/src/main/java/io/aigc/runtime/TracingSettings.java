package io.aigc.runtime;

import java.util.Optional;

/**
 * Where spans go: {@code OTEL_EXPORTER_OTLP_ENDPOINT}, the standard OpenTelemetry variable, is the base URL of an
 * OTLP/HTTP receiver (a collector's {@code http://host:4318}); spans are sent to its {@code /v1/traces}. Unset, no
 * span leaves the process.
 */
public record TracingSettings(Optional<String> otlpEndpoint) {
  public static final TracingSettings OFF = new TracingSettings(Optional.empty());

  public static TracingSettings fromEnv(Env env) {
    Optional<String> endpoint = env.optional("OTEL_EXPORTER_OTLP_ENDPOINT").map(String::strip).filter(s -> !s.isEmpty());
    endpoint.ifPresent(e -> {
      if (!e.startsWith("http://") && !e.startsWith("https://")) {
        throw new IllegalArgumentException("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL, got " + e);
      }
    });
    return new TracingSettings(endpoint);
  }
}
