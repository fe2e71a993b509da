package io.aigc.worker;

import io.aigc.engine.EngineSettings;
import io.aigc.engine.OnnxModel;
import io.aigc.engine.OnnxModel.SessionSettings;
import io.aigc.model.ModelDirectory;
import io.aigc.runtime.CommonConfig;
import io.aigc.runtime.Env;
import io.aigc.runtime.HealthSettings;
import io.aigc.runtime.ServiceDefaults;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The inference worker's configuration, read once from the environment (the README's table lists every variable).
 *
 * @param modelDir {@code AIGC_MODEL_DIR}: the model folder (Optimum decoder layout)
 * @param session {@code AIGC_DEVICE}, {@code AIGC_CUDA_DEVICE}, {@code AIGC_ORT_THREADS}, {@code AIGC_ORT_SPINNING};
 *     the pool of reusable direct memory is sized like the KV-cache budget
 * @param engine {@code AIGC_MAX_BATCH}, {@code AIGC_KV_CACHE_MB}, {@code AIGC_MAX_PREFILL_TOKENS}
 * @param maxWaiting {@code AIGC_MAX_WAITING}: requests queued in the worker beyond the batch; past it the worker
 *     stops fetching (the records wait in Kafka, not in memory)
 * @param group {@code AIGC_WORKER_GROUP}: the consumer group workers share
 * @param workerId {@code AIGC_WORKER_ID}: names this instance in records and client ids
 * @param commitInterval {@code AIGC_OFFSET_COMMIT_INTERVAL}: how often finished offsets are committed
 * @param cancellationLookback {@code AIGC_CANCELLATION_LOOKBACK}: how far back a starting worker reads the
 *     cancellations topic, so a job cancelled while it waited in Kafka is refused when it arrives
 */
public record WorkerConfig(Path modelDir, SessionSettings session, EngineSettings engine, int maxWaiting,
    String group, String workerId, Duration commitInterval, Duration cancellationLookback, CommonConfig common,
    HealthSettings health) {

  public static WorkerConfig fromEnv(Env env) {
    String device = env.string("AIGC_DEVICE", "cpu").toLowerCase(Locale.ROOT);
    if (!device.equals("cpu") && !device.equals("cuda")) {
      throw new IllegalArgumentException("AIGC_DEVICE must be cpu or cuda, got '" + device + "'");
    }
    EngineSettings engine = new EngineSettings(
        env.positiveInt("AIGC_MAX_BATCH", 32),
        (long) env.positiveInt("AIGC_KV_CACHE_MB", 1024) << 20,
        env.positiveInt("AIGC_MAX_PREFILL_TOKENS", 4096));
    SessionSettings session = SessionSettings.cpu()
        .withDevice(device.equals("cuda") ? OnnxModel.Device.CUDA : OnnxModel.Device.CPU,
            env.integer("AIGC_CUDA_DEVICE", 0))
        .withThreads(env.integer("AIGC_ORT_THREADS", 0), env.bool("AIGC_ORT_SPINNING", false))
        .withPooledBytes(engine.kvBudgetBytes());
    return new WorkerConfig(
        env.path("AIGC_MODEL_DIR", ModelDirectory.DEFAULT),
        session,
        engine,
        env.positiveInt("AIGC_MAX_WAITING", 64),
        env.string("AIGC_WORKER_GROUP", ServiceDefaults.WORKER_GROUP),
        env.string("AIGC_WORKER_ID", ManagementFactory.getRuntimeMXBean().getName().replace('@', '-')),
        env.duration("AIGC_OFFSET_COMMIT_INTERVAL", Duration.ofMillis(200)),
        env.duration("AIGC_CANCELLATION_LOOKBACK", Duration.ofHours(1)),
        CommonConfig.fromEnv(env),
        HealthSettings.fromEnv(env, ServiceDefaults.WORKER_METRICS_PORT));
  }
}
