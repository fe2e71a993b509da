package io.aigc.worker;

import io.aigc.runtime.Env;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The inference worker's configuration, from environment variables.
 *
 * <ul>
 *   <li>{@code AIGC_MODEL_DIR} (default {@code models/tiny-llama}): the model folder (Optimum decoder layout)
 *   <li>{@code AIGC_DEVICE} (default {@code cpu}): {@code cuda} asks for the CUDA execution provider (build with
 *       {@code -Pcuda}); where it is unavailable the worker logs why and runs on CPU
 *   <li>{@code AIGC_CUDA_DEVICE} (default 0): which GPU
 *   <li>{@code AIGC_ORT_THREADS} (default 0 = one per core): ONNX Runtime intra-op threads
 *   <li>{@code AIGC_ORT_SPINNING} (default false): let ONNX Runtime's threads spin between runs; worth it only on
 *       a machine whose cores are the worker's alone
 *   <li>{@code AIGC_MAX_BATCH} (default 32): most sequences decoded per step
 *   <li>{@code AIGC_KV_CACHE_MB} (default 1024): KV-cache budget; a request is admitted when its prompt plus
 *       max_tokens fits (direct memory peaks near twice this during a step: the old and the new cache)
 *   <li>{@code AIGC_MAX_PREFILL_TOKENS} (default 4096): prompt tokens prefilled between two decode steps
 *   <li>{@code AIGC_MAX_WAITING} (default 64): requests queued in the worker beyond the batch; past it the worker
 *       stops fetching (the records wait in Kafka, not in memory)
 *   <li>{@code AIGC_WORKER_GROUP} (default {@code aigc-inference-worker}): the consumer group workers share
 *   <li>{@code AIGC_WORKER_ID} (default host-pid): names this instance in records and client ids
 *   <li>{@code AIGC_OFFSET_COMMIT_INTERVAL} (default 200ms): how often finished offsets are committed
 *   <li>{@code AIGC_CANCELLATION_LOOKBACK} (default 1h): how far back a starting worker reads the cancellations
 *       topic, so a job cancelled while it waited in Kafka is refused when it arrives
 *   <li>{@code AIGC_METRICS_HOST} (default 0.0.0.0), {@code AIGC_METRICS_PORT} (default 9102): /healthz, /readyz, /metrics
 * </ul>
 */
public record WorkerConfig(Env env, Path modelDir, OnnxModel.Device device, int cudaDevice, int ortThreads,
    boolean ortSpinning,
    EngineSettings engine, int maxWaiting, String group, String workerId, Duration commitInterval,
    Duration cancellationLookback, String metricsHost, int metricsPort) {

  public static WorkerConfig fromEnv(Env env) {
    String device = env.string("AIGC_DEVICE", "cpu").toLowerCase(java.util.Locale.ROOT);
    if (!device.equals("cpu") && !device.equals("cuda")) {
      throw new IllegalArgumentException("AIGC_DEVICE must be cpu or cuda, got '" + device + "'");
    }
    int maxBatch = positive(env, "AIGC_MAX_BATCH", 32);
    long kvBudget = (long) positive(env, "AIGC_KV_CACHE_MB", 1024) << 20;
    int prefill = positive(env, "AIGC_MAX_PREFILL_TOKENS", 4096);
    return new WorkerConfig(env,
        env.path("AIGC_MODEL_DIR", Path.of("models", "tiny-llama")),
        device.equals("cuda") ? OnnxModel.Device.CUDA : OnnxModel.Device.CPU,
        env.integer("AIGC_CUDA_DEVICE", 0),
        env.integer("AIGC_ORT_THREADS", 0),
        env.bool("AIGC_ORT_SPINNING", false),
        new EngineSettings(maxBatch, kvBudget, prefill),
        positive(env, "AIGC_MAX_WAITING", 64),
        env.string("AIGC_WORKER_GROUP", "aigc-inference-worker"),
        env.string("AIGC_WORKER_ID", ManagementFactory.getRuntimeMXBean().getName().replace('@', '-')),
        env.duration("AIGC_OFFSET_COMMIT_INTERVAL", Duration.ofMillis(200)),
        env.duration("AIGC_CANCELLATION_LOOKBACK", Duration.ofHours(1)),
        env.string("AIGC_METRICS_HOST", "0.0.0.0"),
        env.integer("AIGC_METRICS_PORT", 9102));
  }

  private static int positive(Env env, String name, int defaultValue) {
    int value = env.integer(name, defaultValue);
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, got " + value);
    }
    return value;
  }
}
