package io.aigc.local;

import io.aigc.model.ModelDirectory;
import io.aigc.runtime.Env;
import io.aigc.runtime.ServiceDefaults;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code deploy/local/run.sh} reads for itself, read once from the environment (the README's
 * {@code deploy/local/run.sh} table lists every variable); every other variable reaches the services unchanged.
 *
 * @param modelDirs {@code AIGC_MODEL_DIR}: the models served, comma-separated ({@code --model-dir}, once per model,
 *     overrides it)
 * @param home {@code AIGC_LOCAL_DIR}: broker data, Streams state, logs, PIDs and the local API key
 * @param kafkaPort {@code AIGC_KAFKA_PORT}: the broker's port; the controller takes the next one
 * @param httpPort {@code AIGC_HTTP_PORT}: the gateway's port
 * @param tokenizerMetricsPort {@code AIGC_TOKENIZER_METRICS_PORT}: the tokenizer-service's {@code AIGC_METRICS_PORT}
 * @param workerMetricsPort {@code AIGC_WORKER_METRICS_PORT}: the inference-worker's {@code AIGC_METRICS_PORT}
 * @param postprocessorMetricsPort {@code AIGC_POSTPROCESSOR_METRICS_PORT}: the postprocessor's
 *     {@code AIGC_METRICS_PORT}
 * @param makeLocalKey none of {@code AIGC_API_KEYS}, {@code AIGC_API_KEYS_FILE} and {@code AIGC_AUTH} is set, so the
 *     launcher makes the gateway a key of its own, since the gateway refuses to start with neither keys nor
 *     {@code AIGC_AUTH=none}
 */
record LauncherConfig(List<Path> modelDirs, Path home, int kafkaPort, int httpPort, int tokenizerMetricsPort,
    int workerMetricsPort, int postprocessorMetricsPort, boolean makeLocalKey) {
  static final int DEFAULT_KAFKA_PORT = 9092;

  static LauncherConfig fromEnv(Env env) {
    return new LauncherConfig(
        ModelDirectory.list(env.string("AIGC_MODEL_DIR", ModelDirectory.DEFAULT.toString())),
        env.path("AIGC_LOCAL_DIR", Path.of(".local")).toAbsolutePath().normalize(),
        env.integer("AIGC_KAFKA_PORT", DEFAULT_KAFKA_PORT),
        env.integer("AIGC_HTTP_PORT", ServiceDefaults.GATEWAY_HTTP_PORT),
        env.integer("AIGC_TOKENIZER_METRICS_PORT", ServiceDefaults.TOKENIZER_METRICS_PORT),
        env.integer("AIGC_WORKER_METRICS_PORT", ServiceDefaults.WORKER_METRICS_PORT),
        env.integer("AIGC_POSTPROCESSOR_METRICS_PORT", ServiceDefaults.POSTPROCESSOR_METRICS_PORT),
        env.optional("AIGC_API_KEYS").isEmpty() && env.optional("AIGC_API_KEYS_FILE").isEmpty()
            && env.optional("AIGC_AUTH").isEmpty());
  }
}
