package io.aigc.gateway;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.TopicSetup;
import io.aigc.runtime.model.ModelDirectory;
import io.aigc.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The gateway's configuration, read once from the environment.
 *
 * <ul>
 *   <li>{@code AIGC_HTTP_HOST} (default {@code 0.0.0.0}), {@code AIGC_HTTP_PORT} (default 8080; 0 picks a free port):
 *       where the API, {@code /healthz}, {@code /readyz} and {@code /metrics} are served
 *   <li>{@code AIGC_MODEL_DIR} (default {@code models/tiny-llama}): the served model's folder, read only for its
 *       context length
 *   <li>{@code AIGC_MODEL_NAME} (default: the folder name of {@code AIGC_MODEL_DIR}): the only {@code model} a
 *       request may name
 *   <li>{@code AIGC_MAX_TOKENS_LIMIT} (default: the model's context length when {@code AIGC_MODEL_DIR} is
 *       readable, else 4096): the largest {@code max_tokens} accepted
 *   <li>{@code AIGC_MAX_N} (default 8): the largest {@code n} accepted
 *   <li>{@code AIGC_MAX_BODY_BYTES} (default 1048576): larger request bodies are rejected before they are read
 *   <li>{@code AIGC_SYNC_TIMEOUT} (default 60s): how long {@code POST /v1/completions} may take, from the request's
 *       arrival to its completion; then 504 with the job id, and the job continues
 *   <li>{@code AIGC_MAX_IN_FLIGHT} (default 1024): jobs accepted by this instance and not yet complete, synchronous
 *       or not; past it, 429
 *   <li>{@code AIGC_JOB_RETENTION} (default 24h): on start, completions this recent are read back so jobs stay
 *       answerable across restarts; an accepted job with no completion after this long stops counting as in flight
 *   <li>{@code AIGC_JOB_STORE_SIZE} (default 100000, at least {@code AIGC_MAX_IN_FLIGHT}): jobs kept for
 *       {@code GET /v1/jobs/{id}}; the oldest are evicted
 *   <li>{@code AIGC_PUBLISH_TIMEOUT} (default 10s): the longest a request may take to reach the requests topic
 *       (the producer's {@code max.block.ms} and {@code delivery.timeout.ms}); then 503
 *   <li>{@code AIGC_READY_INTERVAL} (default 5s): how often the broker and the five topics are checked for
 *       {@code /readyz}
 *   <li>Kafka: {@code KAFKA_BOOTSTRAP_SERVERS} and the rest of {@link KafkaSettings}; topics: {@code AIGC_TOPIC_*}
 *       ({@link Topics}); topic creation: {@code AIGC_CREATE_TOPICS}, {@code AIGC_TOPIC_PARTITIONS},
 *       {@code AIGC_TOPIC_REPLICATION} ({@link TopicSetup})
 * </ul>
 */
public record GatewayConfig(
    String httpHost,
    int httpPort,
    String modelName,
    int maxTokensLimit,
    int maxN,
    int maxBodyBytes,
    Duration syncTimeout,
    int maxInFlight,
    Duration jobRetention,
    int jobStoreSize,
    Duration publishTimeout,
    Duration readyInterval,
    KafkaSettings kafka,
    TopicSetup topicSetup,
    Topics topics) {

  static final String DEFAULT_MODEL_DIR = "models/tiny-llama";
  static final int FALLBACK_MAX_TOKENS_LIMIT = 4096;

  public GatewayConfig {
    require(httpPort >= 0 && httpPort <= 65535, "AIGC_HTTP_PORT must be between 0 and 65535, got " + httpPort);
    require(modelName != null && !modelName.isBlank(), "AIGC_MODEL_NAME must not be blank");
    require(maxTokensLimit >= 1, "AIGC_MAX_TOKENS_LIMIT must be at least 1, got " + maxTokensLimit);
    require(maxN >= 1, "AIGC_MAX_N must be at least 1, got " + maxN);
    require(maxBodyBytes >= 1, "AIGC_MAX_BODY_BYTES must be at least 1, got " + maxBodyBytes);
    require(!syncTimeout.isNegative() && !syncTimeout.isZero(), "AIGC_SYNC_TIMEOUT must be positive");
    require(maxInFlight >= 1, "AIGC_MAX_IN_FLIGHT must be at least 1, got " + maxInFlight);
    require(!jobRetention.isNegative(), "AIGC_JOB_RETENTION must not be negative");
    require(jobStoreSize >= maxInFlight, "AIGC_JOB_STORE_SIZE (" + jobStoreSize
        + ") must be at least AIGC_MAX_IN_FLIGHT (" + maxInFlight + ")");
    require(publishTimeout.toMillis() >= 2, "AIGC_PUBLISH_TIMEOUT must be at least 2ms");
    require(!readyInterval.isNegative() && !readyInterval.isZero(), "AIGC_READY_INTERVAL must be positive");
  }

  public static GatewayConfig fromEnv(Env env) {
    Path modelDir = env.path("AIGC_MODEL_DIR", Path.of(DEFAULT_MODEL_DIR));
    String folderName = String.valueOf(modelDir.toAbsolutePath().normalize().getFileName());
    return new GatewayConfig(
        env.string("AIGC_HTTP_HOST", "0.0.0.0"),
        env.integer("AIGC_HTTP_PORT", 8080),
        env.string("AIGC_MODEL_NAME", folderName),
        env.optional("AIGC_MAX_TOKENS_LIMIT").isPresent()
            ? env.integer("AIGC_MAX_TOKENS_LIMIT", FALLBACK_MAX_TOKENS_LIMIT)
            : contextLengthOr(modelDir, FALLBACK_MAX_TOKENS_LIMIT),
        env.integer("AIGC_MAX_N", 8),
        env.integer("AIGC_MAX_BODY_BYTES", 1024 * 1024),
        env.duration("AIGC_SYNC_TIMEOUT", Duration.ofSeconds(60)),
        env.integer("AIGC_MAX_IN_FLIGHT", 1024),
        env.duration("AIGC_JOB_RETENTION", Duration.ofHours(24)),
        env.integer("AIGC_JOB_STORE_SIZE", 100_000),
        env.duration("AIGC_PUBLISH_TIMEOUT", Duration.ofSeconds(10)),
        env.duration("AIGC_READY_INTERVAL", Duration.ofSeconds(5)),
        KafkaSettings.fromEnv(env),
        TopicSetup.fromEnv(env),
        Topics.fromEnvironment(env.asMap()));
  }

  /** The gateway runs without the model's weights; its folder only tells how long a generation may be. */
  private static int contextLengthOr(Path modelDir, int fallback) {
    try {
      return ModelDirectory.open(modelDir).contextLength();
    } catch (IllegalArgumentException e) {
      return fallback;
    }
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
