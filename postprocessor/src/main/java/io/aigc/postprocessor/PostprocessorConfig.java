package io.aigc.postprocessor;

import io.aigc.runtime.Env;
import io.aigc.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The postprocessor's configuration, read once from the environment.
 *
 * <ul>
 *   <li>{@code AIGC_MODEL_DIR} (default {@code models/tiny-llama}): the model the generated token ids belong to; its
 *       {@code tokenizer.json} turns them into text. Must be the folder the inference workers serve.
 *   <li>{@code AIGC_DEDUP_RETENTION} (default {@code 7d}): how long a completed request id is remembered,
 *       so that a duplicate of it (a worker's retry after a crash) yields no second completion. A duplicate that
 *       arrives later than this is answered again. Durations take {@code ms}, {@code s}, {@code m}, {@code h} or {@code d}.
 *   <li>{@code AIGC_DEDUP_PURGE_INTERVAL} (default {@code 1h}): how often ids older than the retention are purged
 *       (wall-clock time); an id is forgotten at most this much later than its retention.
 *   <li>{@code AIGC_TOPIC_GENERATED}, {@code AIGC_TOPIC_COMPLETIONS}, {@code AIGC_TOPIC_DLQ}: topic names (see
 *       {@link Topics}).
 *   <li>Read by {@link io.aigc.runtime.StreamsService}: {@code AIGC_APPLICATION_ID} (default
 *       {@code aigc-postprocessor}), {@code AIGC_METRICS_PORT} (default 9103), {@code AIGC_METRICS_HOST},
 *       {@code AIGC_STATE_DIR} (the dedup store lives there, restored from its changelog topic when lost),
 *       {@code AIGC_STREAM_THREADS}, {@code AIGC_COMMIT_INTERVAL}; the Kafka connection ({@code KAFKA_*}, see
 *       {@link io.aigc.runtime.KafkaSettings}) and topic creation ({@code AIGC_CREATE_TOPICS},
 *       {@code AIGC_TOPIC_PARTITIONS}, {@code AIGC_TOPIC_REPLICATION}, see {@link io.aigc.runtime.TopicSetup}).
 * </ul>
 *
 * @param env the whole environment, for the settings {@link io.aigc.runtime.StreamsService} reads itself
 */
public record PostprocessorConfig(Path modelDir, Duration dedupRetention, Duration dedupPurgeInterval,
    Topics topics, Env env) {

  public PostprocessorConfig {
    if (dedupRetention.isZero() || dedupRetention.isNegative()) {
      throw new IllegalArgumentException("AIGC_DEDUP_RETENTION must be positive, got " + dedupRetention);
    }
    if (dedupPurgeInterval.isZero() || dedupPurgeInterval.isNegative()) {
      throw new IllegalArgumentException("AIGC_DEDUP_PURGE_INTERVAL must be positive, got " + dedupPurgeInterval);
    }
  }

  public static PostprocessorConfig fromEnv(Env env) {
    return new PostprocessorConfig(
        env.path("AIGC_MODEL_DIR", Path.of("models", "tiny-llama")),
        env.duration("AIGC_DEDUP_RETENTION", Duration.ofDays(7)),
        env.duration("AIGC_DEDUP_PURGE_INTERVAL", Duration.ofHours(1)),
        Topics.fromEnvironment(env.asMap()),
        env);
  }
}
