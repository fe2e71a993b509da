package io.aigc.postprocessor;

import io.aigc.model.ModelDirectory;
import io.aigc.runtime.CommonConfig;
import io.aigc.runtime.Env;
import io.aigc.runtime.ServiceDefaults;
import io.aigc.runtime.streams.StreamsSettings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The postprocessor's configuration, read once from the environment (the README's table lists every variable).
 *
 * @param modelDir {@code AIGC_MODEL_DIR}: the model the generated token ids belong to; its {@code tokenizer.json}
 *     turns them into text. Must be the folder the inference workers serve
 * @param dedupRetention {@code AIGC_DEDUP_RETENTION}: how long a completed request id is remembered, so that a
 *     duplicate of it (a worker's retry after a crash) yields no second completion; a later duplicate is answered again
 * @param dedupPurgeInterval {@code AIGC_DEDUP_PURGE_INTERVAL}: how often ids older than the retention are purged
 *     (wall-clock time); an id is forgotten at most this much later than its retention
 */
public record PostprocessorConfig(Path modelDir, Duration dedupRetention, Duration dedupPurgeInterval,
    CommonConfig common, StreamsSettings streams) {

  public static PostprocessorConfig fromEnv(Env env) {
    return new PostprocessorConfig(
        env.path("AIGC_MODEL_DIR", ModelDirectory.DEFAULT),
        env.positiveDuration("AIGC_DEDUP_RETENTION", Duration.ofDays(7)),
        env.positiveDuration("AIGC_DEDUP_PURGE_INTERVAL", Duration.ofHours(1)),
        CommonConfig.fromEnv(env),
        StreamsSettings.fromEnv(env, ServiceDefaults.POSTPROCESSOR_APPLICATION_ID,
            ServiceDefaults.POSTPROCESSOR_METRICS_PORT));
  }
}
