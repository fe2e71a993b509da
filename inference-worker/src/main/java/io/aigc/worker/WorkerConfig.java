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
import java.util.List;
import java.util.Locale;

/**
 * The inference worker's configuration, read once from the environment (the README's table lists every variable).
 *
 * @param modelDir {@code AIGC_MODEL_DIR}: the model folder (Optimum decoder layout); a worker serves exactly one
 *     model, whose tokenized topic it reads
 * @param session {@code AIGC_DEVICE}, {@code AIGC_CUDA_DEVICE}, {@code AIGC_ORT_THREADS}, {@code AIGC_ORT_SPINNING};
 *     the pool of reusable direct memory is sized like the KV-cache budget
 * @param engine {@code AIGC_MAX_BATCH}, {@code AIGC_KV_CACHE_MB}, {@code AIGC_MAX_PREFILL_TOKENS}
 * @param maxWaiting {@code AIGC_MAX_WAITING}: requests queued in the worker beyond the batch; past it the worker
 *     stops fetching (the records wait in Kafka, not in memory)
 * @param group {@code AIGC_WORKER_GROUP} + "." + the model's name: the consumer group this model's workers share
 * @param workerId {@code AIGC_WORKER_ID}: names this instance in records and client ids
 * @param commitInterval {@code AIGC_OFFSET_COMMIT_INTERVAL}: how often finished offsets are committed
 * @param drainTimeout {@code AIGC_DRAIN_TIMEOUT}: on SIGTERM, how long the worker lets what it holds finish before
 *     it hands the rest back (uncommitted) and leaves the group
 * @param cancellationLookback {@code AIGC_CANCELLATION_LOOKBACK}: how far back a starting worker reads the
 *     cancellations topic, so a job cancelled while it waited in Kafka is refused when it arrives
 */
public record WorkerConfig(Path modelDir, SessionSettings session, EngineSettings engine, int maxWaiting,
    String group, String workerId, Duration commitInterval, Duration drainTimeout, Duration cancellationLookback,
    CommonConfig common,
    HealthSettings health) {

  /** Within Kubernetes' default grace period of 30 s, with room for the rest of the shutdown. */
  static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(20);

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
    List<Path> models = ModelDirectory.list(env.string("AIGC_MODEL_DIR", ModelDirectory.DEFAULT.toString()));
    if (models.size() != 1) {
      throw new IllegalArgumentException("AIGC_MODEL_DIR names " + models.size() + " models, but an inference worker "
          + "serves exactly one: run a worker (a pool of them) per model");
    }
    Path modelDir = models.get(0);
    return new WorkerConfig(
        modelDir,
        session,
        engine,
        env.positiveInt("AIGC_MAX_WAITING", 64),
        ServiceDefaults.workerGroup(env.string("AIGC_WORKER_GROUP", ServiceDefaults.WORKER_GROUP),
            ModelDirectory.nameOf(modelDir)),
        env.string("AIGC_WORKER_ID", ManagementFactory.getRuntimeMXBean().getName().replace('@', '-')),
        env.duration("AIGC_OFFSET_COMMIT_INTERVAL", Duration.ofMillis(200)),
        env.duration("AIGC_DRAIN_TIMEOUT", DEFAULT_DRAIN_TIMEOUT),
        env.duration("AIGC_CANCELLATION_LOOKBACK", Duration.ofHours(1)),
        CommonConfig.fromEnv(env),
        HealthSettings.fromEnv(env, ServiceDefaults.WORKER_METRICS_PORT));
  }
}
