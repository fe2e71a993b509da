package io.aigc.gateway;

import io.aigc.model.ModelDirectory;
import io.aigc.runtime.CommonConfig;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.ServiceDefaults;
import io.aigc.runtime.TopicSetup;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.Tasks;
import io.aigc.schemas.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The gateway's configuration, read once from the environment.
 *
 * <ul>
 *   <li>{@code AIGC_HTTP_HOST} (default {@code 0.0.0.0}), {@code AIGC_HTTP_PORT} (default 8080; 0 picks a free port):
 *       where the API, {@code /healthz}, {@code /readyz} and {@code /metrics} are served
 *   <li>{@code AIGC_MODEL_DIR} (default {@code models/tiny-llama}): the served models' folders, comma-separated, the
 *       default (for requests that name none) first; their names (the folders' names) are the {@code model}s a
 *       request may name, and the folders are read only for their context lengths
 *   <li>{@code AIGC_MAX_TOKENS_LIMIT} (default: the longest context length of the served models when their folders
 *       are readable, else 4096): the largest {@code max_tokens} accepted; the tokenizer-service checks each
 *       request against its own model's context
 *   <li>{@code AIGC_MAX_N} (default 8): the largest {@code n} accepted
 *   <li>{@code AIGC_MAX_BODY_BYTES} (default 1048576): larger request bodies are rejected before they are read
 *   <li>{@code AIGC_SYNC_TIMEOUT} (default 60s): how long a non-streamed {@code POST /v1/completions} or
 *       {@code /v1/chat/completions} may take, from the request's arrival to its completion; then 504 with the job
 *       id, and the job continues
 *   <li>{@code AIGC_STREAM_IDLE_TIMEOUT} (default 60s): a streamed job that sends no text for this long (before its
 *       first token too) is cancelled and its stream ends with an error, rather than hang. Streams have no overall
 *       limit: a long generation that keeps sending is never cut
 *   <li>{@code AIGC_STREAM_PARTITION} (default: a hash of this instance's random id): the partition of the stream
 *       topic this instance reads, and names in its streamed requests so the workers send their text there. Two
 *       instances on one partition each read the other's events and drop them (reads, never correctness); a
 *       StatefulSet can set it from the pod's ordinal to give each instance its own
 *   <li>{@code AIGC_HTTP_IDLE_TIMEOUT} (default the longer of {@code AIGC_SYNC_TIMEOUT} and
 *       {@code AIGC_STREAM_IDLE_TIMEOUT}, + 30s; more than both): a connection with nothing read or written for this
 *       long is closed, so a client that opens connections and never finishes a request cannot hold them forever
 *   <li>{@code AIGC_MAX_IN_FLIGHT} (default 1024): jobs accepted by this instance and not yet complete, synchronous
 *       or not; past it, 429
 *   <li>{@code AIGC_JOB_RETENTION} (default 24h): on start, completions this recent are read back so jobs stay
 *       answerable across restarts; an accepted job with no completion after this long stops counting as in flight
 *   <li>{@code AIGC_JOB_STORE_SIZE} (default 100000, at least {@code AIGC_MAX_IN_FLIGHT}): jobs kept for
 *       {@code GET /v1/jobs/{id}}; the oldest are evicted
 *   <li>{@code AIGC_PUBLISH_TIMEOUT} (default 10s): the longest a request may take to reach the requests topic
 *       (the producer's {@code max.block.ms} and {@code delivery.timeout.ms}); then 503
 *   <li>{@code AIGC_READY_INTERVAL} (default 5s): how often the broker and the topics are checked for
 *       {@code /readyz}
 *   <li>{@code AIGC_DRAIN_TIMEOUT} (default 20s, within Kubernetes' default grace period of 30s): on SIGTERM, new
 *       connections are refused and the requests in flight get this long to be answered
 * </ul>
 *
 * <p>Access control (everything under {@code /v1/}; {@code /healthz}, {@code /readyz} and {@code /metrics} stay
 * open for probes and scrapers). Exactly one of the two modes must be configured, or the gateway refuses to start:
 * <ul>
 *   <li>{@code AIGC_API_KEYS} (no default): comma-separated {@code name:sha256hex} entries, where {@code sha256hex}
 *       is the SHA-256 of the key (64 hex digits, e.g. {@code printf %s "$KEY" | sha256sum}) and {@code name}
 *       (1 to 64 of {@code [A-Za-z0-9._-]}) names the caller in logs, metrics and the job's metadata. Keys are never
 *       configured, stored or logged in plain text. Clients send {@code Authorization: Bearer <key>}
 *   <li>{@code AIGC_API_KEYS_FILE} (no default): instead of {@code AIGC_API_KEYS}, a UTF-8 file with one
 *       {@code name:sha256hex} per line; blank lines and lines starting with {@code #} are skipped. Read at start
 *       (a changed file takes a restart). Setting both variables is an error
 *   <li>{@code AIGC_AUTH} (default {@code api_key}): {@code none} serves {@code /v1/} without keys (one WARN line at
 *       start says so); it cannot be combined with keys
 *   <li>{@code AIGC_RATE_LIMIT} (default 10; 0 = unlimited): requests per second per API key, on average, to
 *       everything under {@code /v1/} (polls included); past it, 429 with {@code Retry-After}. Why 10: each
 *       generation takes a worker seconds, so a client that sends more than ten a second for long is queueing work,
 *       not waiting for it; the limit stops one client stuck in a retry loop from taking the whole in-flight budget
 *       in a fraction of a second, and a batch caller that needs more is given a higher limit (or 0). Not applied
 *       with {@code AIGC_AUTH=none}: without keys there is no caller to count
 *   <li>{@code AIGC_RATE_BURST} (default: twice {@code AIGC_RATE_LIMIT}, at least 1): requests a key may send at
 *       once after being idle
 * </ul>
 *
 * <p>Overload, besides {@code AIGC_MAX_IN_FLIGHT}:
 * <ul>
 *   <li>{@code AIGC_MAX_BACKLOG} (default 10000; 0 = off): when the requests waiting in the pipeline (consumer lag
 *       of the tokenizer on the requests topic plus the workers' on the tokenized topic) exceed it, new requests get
 *       429 with a {@code Retry-After} until it drains. Why 10000: enough to absorb a burst of batch jobs, yet at
 *       the few to tens of requests a second a handful of workers serve, already minutes to an hour of queued work:
 *       past that, a new request waits longer than any caller will, so refusing it at once is kinder. The gateway's
 *       Kafka principal needs {@code Describe} on both groups and on the two topics
 *   <li>{@code AIGC_BACKLOG_INTERVAL} (default 1s): how often the backlog is read
 *   <li>{@code AIGC_TOKENIZER_GROUP} (default {@code aigc-tokenizer}, the tokenizer's {@code AIGC_APPLICATION_ID})
 *       and {@code AIGC_WORKER_GROUP} (default {@code aigc-inference-worker}, as the worker reads it: the prefix of
 *       each model's group {@code <prefix>.<model>}): the groups whose lag is the backlog
 * </ul>
 *
 * <p>The playground's pipeline panel ({@code GET /v1/pipeline}):
 * <ul>
 *   <li>{@code AIGC_PIPELINE_METRICS_URLS} (no default): comma-separated {@code http://host:port/metrics} URLs of the
 *       other services' Prometheus endpoints, one per instance; the panel shows each worker's batch and every
 *       service's dead letters from them. Without it the panel shows only what the gateway knows itself (consumer
 *       lag, its own jobs)
 *   <li>{@code AIGC_PIPELINE_INTERVAL} (default 2s): how often those URLs are read; the panel's chart keeps the
 *       last {@value PipelineMonitor#HISTORY} readings
 * </ul>
 *
 * <p>Tasks:
 * <ul>
 *   <li>{@code AIGC_TASKS_FILE} (no default): the operator's tasks file, extending and overriding the built-in tasks
 *       ({@link Tasks}); the tokenizer-service must be given the same file. The gateway checks a task's name and
 *       fields, so a mistake is a 400 at once rather than an error completion
 * </ul>
 *
 * <p>Kafka:
 * <ul>
 *   <li>{@code KAFKA_BOOTSTRAP_SERVERS} and the rest of {@link KafkaSettings}; topics: {@code AIGC_TOPIC_*}
 *       ({@link Topics}); topic creation: {@code AIGC_CREATE_TOPICS}, {@code AIGC_TOPIC_PARTITIONS},
 *       {@code AIGC_TOPIC_REPLICATION} ({@link TopicSetup})
 * </ul>
 */
public record GatewayConfig(
    String httpHost,
    int httpPort,
    List<String> models,
    int maxTokensLimit,
    int maxN,
    int maxBodyBytes,
    Duration syncTimeout,
    Duration streamIdleTimeout,
    Integer streamPartition,
    Duration httpIdleTimeout,
    int maxInFlight,
    Duration jobRetention,
    int jobStoreSize,
    Duration publishTimeout,
    Duration readyInterval,
    Duration drainTimeout,
    ApiKeys apiKeys,
    boolean openAccess,
    double rateLimit,
    int rateBurst,
    long maxBacklog,
    Duration backlogInterval,
    String tokenizerGroup,
    String workerGroup,
    BatchConfig batches,
    List<URI> pipelineMetricsUrls,
    Duration pipelineInterval,
    Tasks tasks,
    CommonConfig common) {

  static final int FALLBACK_MAX_TOKENS_LIMIT = 4096;
  static final double DEFAULT_RATE_LIMIT = 10;
  static final long DEFAULT_MAX_BACKLOG = 10_000;
  /** One request per 1000 s: slower than that, a limit is a typo for 0. */
  static final double MIN_RATE_LIMIT = 0.001;
  private static final String AUTH_API_KEY = "api_key";
  private static final String AUTH_NONE = "none";

  public GatewayConfig {
    require(httpPort >= 0 && httpPort <= 65535, "AIGC_HTTP_PORT must be between 0 and 65535, got " + httpPort);
    require(models != null && !models.isEmpty(), "AIGC_MODEL_DIR must name at least one model");
    models = List.copyOf(models);
    require(maxTokensLimit >= 1, "AIGC_MAX_TOKENS_LIMIT must be at least 1, got " + maxTokensLimit);
    require(maxN >= 1, "AIGC_MAX_N must be at least 1, got " + maxN);
    require(maxBodyBytes >= 1, "AIGC_MAX_BODY_BYTES must be at least 1, got " + maxBodyBytes);
    require(!syncTimeout.isNegative() && !syncTimeout.isZero(), "AIGC_SYNC_TIMEOUT must be positive");
    require(!streamIdleTimeout.isNegative() && !streamIdleTimeout.isZero(),
        "AIGC_STREAM_IDLE_TIMEOUT must be positive");
    require(streamPartition == null || streamPartition >= 0, "AIGC_STREAM_PARTITION must be at least 0, got "
        + streamPartition);
    require(httpIdleTimeout.compareTo(syncTimeout) > 0, "AIGC_HTTP_IDLE_TIMEOUT (" + httpIdleTimeout
        + ") must be longer than AIGC_SYNC_TIMEOUT (" + syncTimeout + "): a request waiting for its completion has "
        + "an idle connection");
    require(httpIdleTimeout.compareTo(streamIdleTimeout) > 0, "AIGC_HTTP_IDLE_TIMEOUT (" + httpIdleTimeout
        + ") must be longer than AIGC_STREAM_IDLE_TIMEOUT (" + streamIdleTimeout + "): a stream waiting for its next "
        + "token has an idle connection");
    require(maxInFlight >= 1, "AIGC_MAX_IN_FLIGHT must be at least 1, got " + maxInFlight);
    require(!jobRetention.isNegative(), "AIGC_JOB_RETENTION must not be negative");
    require(jobStoreSize >= maxInFlight, "AIGC_JOB_STORE_SIZE (" + jobStoreSize
        + ") must be at least AIGC_MAX_IN_FLIGHT (" + maxInFlight + ")");
    require(publishTimeout.toMillis() >= 2, "AIGC_PUBLISH_TIMEOUT must be at least 2ms");
    require(!readyInterval.isNegative() && !readyInterval.isZero(), "AIGC_READY_INTERVAL must be positive");
    require(!drainTimeout.isNegative(), "AIGC_DRAIN_TIMEOUT must not be negative");
    require(apiKeys != null, "apiKeys must not be null (ApiKeys.none() for none)");
    require(!openAccess || apiKeys.isEmpty(), "AIGC_AUTH=none serves without API keys, but AIGC_API_KEYS or "
        + "AIGC_API_KEYS_FILE configures " + apiKeys.names().size() + ": remove one or the other");
    require(openAccess || !apiKeys.isEmpty(), "No API keys are configured: set AIGC_API_KEYS (or "
        + "AIGC_API_KEYS_FILE) to name:sha256hex entries, or set AIGC_AUTH=none to serve without keys");
    require(rateLimit == 0 || (rateLimit >= MIN_RATE_LIMIT && Double.isFinite(rateLimit)),
        "AIGC_RATE_LIMIT must be 0 (unlimited) or a number of requests per second of at least " + MIN_RATE_LIMIT
            + ", got " + rateLimit);
    require(rateBurst >= 1, "AIGC_RATE_BURST must be at least 1, got " + rateBurst);
    require(maxBacklog >= 0, "AIGC_MAX_BACKLOG must be at least 0 (0 = off), got " + maxBacklog);
    require(!backlogInterval.isNegative() && !backlogInterval.isZero(), "AIGC_BACKLOG_INTERVAL must be positive");
    require(tokenizerGroup != null && !tokenizerGroup.isBlank(), "AIGC_TOKENIZER_GROUP must not be blank");
    require(workerGroup != null && !workerGroup.isBlank(), "AIGC_WORKER_GROUP must not be blank");
    require(batches != null, "batches must not be null");
    require(batches.maxInFlight() <= maxInFlight, "AIGC_BATCH_MAX_IN_FLIGHT (" + batches.maxInFlight()
        + ") must be at most AIGC_MAX_IN_FLIGHT (" + maxInFlight + ")");
    require(pipelineMetricsUrls != null, "pipelineMetricsUrls must not be null (empty for none)");
    pipelineMetricsUrls = List.copyOf(pipelineMetricsUrls);
    require(!pipelineInterval.isNegative() && !pipelineInterval.isZero(), "AIGC_PIPELINE_INTERVAL must be positive");
    require(!tokenizerGroup.equals(workerGroup), "AIGC_TOKENIZER_GROUP and AIGC_WORKER_GROUP must differ, both are '"
        + workerGroup + "'");
  }

  public static GatewayConfig fromEnv(Env env) {
    List<Path> modelDirs = ModelDirectory.list(env.string("AIGC_MODEL_DIR", ModelDirectory.DEFAULT.toString()));
    double rateLimit = env.decimal("AIGC_RATE_LIMIT", DEFAULT_RATE_LIMIT);
    Duration syncTimeout = env.duration("AIGC_SYNC_TIMEOUT", Duration.ofSeconds(60));
    Duration streamIdleTimeout = env.duration("AIGC_STREAM_IDLE_TIMEOUT", Duration.ofSeconds(60));
    Duration longestWait = syncTimeout.compareTo(streamIdleTimeout) >= 0 ? syncTimeout : streamIdleTimeout;
    return new GatewayConfig(
        env.string("AIGC_HTTP_HOST", "0.0.0.0"),
        env.integer("AIGC_HTTP_PORT", ServiceDefaults.GATEWAY_HTTP_PORT),
        modelDirs.stream().map(ModelDirectory::nameOf).toList(),
        env.optional("AIGC_MAX_TOKENS_LIMIT").isPresent()
            ? env.integer("AIGC_MAX_TOKENS_LIMIT", FALLBACK_MAX_TOKENS_LIMIT)
            : modelDirs.stream().mapToInt(dir -> contextLengthOr(dir, FALLBACK_MAX_TOKENS_LIMIT)).max().orElseThrow(),
        env.integer("AIGC_MAX_N", RequestRules.DEFAULT_MAX_N),
        env.integer("AIGC_MAX_BODY_BYTES", 1024 * 1024),
        syncTimeout,
        streamIdleTimeout,
        env.optional("AIGC_STREAM_PARTITION").isPresent() ? env.integer("AIGC_STREAM_PARTITION", 0) : null,
        env.duration("AIGC_HTTP_IDLE_TIMEOUT", longestWait.plusSeconds(30)),
        env.integer("AIGC_MAX_IN_FLIGHT", 1024),
        env.duration("AIGC_JOB_RETENTION", Duration.ofHours(24)),
        env.integer("AIGC_JOB_STORE_SIZE", 100_000),
        env.duration("AIGC_PUBLISH_TIMEOUT", Duration.ofSeconds(10)),
        env.duration("AIGC_READY_INTERVAL", Duration.ofSeconds(5)),
        env.duration("AIGC_DRAIN_TIMEOUT", Duration.ofSeconds(20)),
        apiKeys(env),
        openAccess(env),
        rateLimit,
        env.integer("AIGC_RATE_BURST", (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(2 * rateLimit)))),
        env.longValue("AIGC_MAX_BACKLOG", DEFAULT_MAX_BACKLOG),
        env.duration("AIGC_BACKLOG_INTERVAL", Duration.ofSeconds(1)),
        env.string("AIGC_TOKENIZER_GROUP", ServiceDefaults.TOKENIZER_APPLICATION_ID),
        env.string("AIGC_WORKER_GROUP", ServiceDefaults.WORKER_GROUP),
        BatchConfig.fromEnv(env, env.integer("AIGC_MAX_IN_FLIGHT", 1024)),
        metricsUrls(env.optional("AIGC_PIPELINE_METRICS_URLS").orElse("")),
        env.duration("AIGC_PIPELINE_INTERVAL", Duration.ofSeconds(2)),
        Tasks.load(env.path("AIGC_TASKS_FILE", null)),
        CommonConfig.fromEnv(env));
  }

  /** The model a request that names none gets: {@code AIGC_MODEL_DIR}'s first. */
  String defaultModel() {
    return models.get(0);
  }

  KafkaSettings kafka() {
    return common.kafka();
  }

  Topics topics() {
    return common.topics();
  }

  private static boolean openAccess(Env env) {
    String auth = env.string("AIGC_AUTH", AUTH_API_KEY).toLowerCase(Locale.ROOT);
    return switch (auth) {
      case AUTH_NONE -> true;
      case AUTH_API_KEY -> false;
      default -> throw new IllegalArgumentException("AIGC_AUTH must be " + AUTH_API_KEY + " (the default) or "
          + AUTH_NONE + ", got '" + auth + "'");
    };
  }

  /** The configured keys; the values themselves never appear in an error message (they may be keys by mistake). */
  private static ApiKeys apiKeys(Env env) {
    Optional<String> inline = env.optional("AIGC_API_KEYS");
    Optional<Path> file = env.optional("AIGC_API_KEYS_FILE").map(Path::of);
    if (inline.isPresent() && file.isPresent()) {
      throw new IllegalArgumentException("Set AIGC_API_KEYS or AIGC_API_KEYS_FILE, not both");
    }
    if (inline.isPresent()) {
      return ApiKeys.parse("AIGC_API_KEYS entry", List.of(inline.get().split(",", -1)));
    }
    if (file.isEmpty()) {
      return ApiKeys.none();
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file.get(), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("AIGC_API_KEYS_FILE " + file.get() + " cannot be read: " + e, e);
    }
    ApiKeys keys = ApiKeys.parse("AIGC_API_KEYS_FILE line", lines);
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("AIGC_API_KEYS_FILE " + file.get() + " has no name:sha256hex line");
    }
    return keys;
  }

  /** {@code AIGC_PIPELINE_METRICS_URLS}: absolute http(s) URLs, comma-separated; blank entries are skipped. */
  static List<URI> metricsUrls(String list) {
    List<URI> urls = new ArrayList<>();
    for (String entry : list.split(",", -1)) {
      String url = entry.strip();
      if (url.isEmpty()) {
        continue;
      }
      URI uri;
      try {
        uri = new URI(url);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("AIGC_PIPELINE_METRICS_URLS: '" + url + "' is not a URL: "
            + e.getMessage());
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      require((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null,
          "AIGC_PIPELINE_METRICS_URLS: '" + url + "' must be an http:// or https:// URL with a host, such as "
              + "http://127.0.0.1:9102/metrics");
      urls.add(uri);
    }
    return List.copyOf(urls);
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
