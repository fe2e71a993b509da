package io.aigc.postprocessor;

import io.aigc.model.ModelDirectory;
import io.aigc.runtime.CommonConfig;
import io.aigc.runtime.Env;
import io.aigc.runtime.ServiceDefaults;
import io.aigc.runtime.streams.StreamsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The postprocessor's configuration, read once from the environment (the README's table lists every variable).
 *
 * @param modelDirs {@code AIGC_MODEL_DIR}: the served models, comma-separated, the default first; each generated
 *     sequence names its model, whose {@code tokenizer.json} turns its token ids into text. The same folders the
 *     tokenizer-service serves
 * @param dedupRetention {@code AIGC_DEDUP_RETENTION}: how long a completed request id is remembered, so that a
 *     duplicate of it (a worker's retry after a crash) yields no second completion; a later duplicate is answered again
 * @param dedupPurgeInterval {@code AIGC_DEDUP_PURGE_INTERVAL}: how often ids older than the retention are purged
 *     (wall-clock time); an id is forgotten at most this much later than its retention
 */
public record PostprocessorConfig(List<Path> modelDirs, Duration dedupRetention, Duration dedupPurgeInterval,
    CommonConfig common, StreamsSettings streams) {

  public static PostprocessorConfig fromEnv(Env env) {
    return new PostprocessorConfig(
        ModelDirectory.list(env.string("AIGC_MODEL_DIR", ModelDirectory.DEFAULT.toString())),
        env.positiveDuration("AIGC_DEDUP_RETENTION", Duration.ofDays(7)),
        env.positiveDuration("AIGC_DEDUP_PURGE_INTERVAL", Duration.ofHours(1)),
        CommonConfig.fromEnv(env),
        StreamsSettings.fromEnv(env, ServiceDefaults.POSTPROCESSOR_APPLICATION_ID,
            ServiceDefaults.POSTPROCESSOR_METRICS_PORT));
  }
}
