package io.aigc.tokenizer;

import io.aigc.runtime.Env;
import io.aigc.schemas.Topics;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * The tokenizer-service's configuration, read once from the environment.
 *
 * <ul>
 *   <li>{@code AIGC_MODEL_DIR} (default {@code models/tiny-llama}): the served model, a Hugging Face Optimum folder.
 *       Its folder name is the served model's name; its {@code tokenizer.json} tokenizes the prompts and its
 *       {@code config.json} gives the context length.
 *   <li>{@code AIGC_PROMPT_TEMPLATE} (default {@code {prompt}}): the text the model sees, with every
 *       {@code {prompt}} replaced by the request's prompt (for example an instruction format). Taken verbatim,
 *       not trimmed; must contain {@code {prompt}}.
 *   <li>{@code AIGC_MAX_N} (default 8): the most choices one request may ask for ({@code n}).
 *   <li>{@code HOSTNAME} (default: the host's name): names this instance in the {@code producer} field of the
 *       error events it writes, as {@code tokenizer-service@<HOSTNAME>}.
 *   <li>{@code AIGC_TOPIC_REQUESTS}, {@code AIGC_TOPIC_GENERATED}, {@code AIGC_TOPIC_TOKENIZED},
 *       {@code AIGC_TOPIC_DLQ}: topic names (see {@link Topics}).
 *   <li>Read by {@link io.aigc.runtime.StreamsService}: {@code AIGC_APPLICATION_ID} (default
 *       {@code aigc-tokenizer}), {@code AIGC_METRICS_PORT} (default 9101), {@code AIGC_METRICS_HOST},
 *       {@code AIGC_STATE_DIR}, {@code AIGC_STREAM_THREADS}, {@code AIGC_COMMIT_INTERVAL}; the Kafka connection
 *       ({@code KAFKA_*}, see {@link io.aigc.runtime.KafkaSettings}) and topic creation ({@code AIGC_CREATE_TOPICS},
 *       {@code AIGC_TOPIC_PARTITIONS}, {@code AIGC_TOPIC_REPLICATION}, see {@link io.aigc.runtime.TopicSetup}).
 * </ul>
 *
 * @param env the whole environment, for the settings {@link io.aigc.runtime.StreamsService} reads itself
 */
public record TokenizerConfig(Path modelDir, String promptTemplate, int maxN, String producer, Topics topics,
    Env env) {
  static final String PROMPT_PLACEHOLDER = "{prompt}";

  public TokenizerConfig {
    if (!promptTemplate.contains(PROMPT_PLACEHOLDER)) {
      throw new IllegalArgumentException("AIGC_PROMPT_TEMPLATE must contain " + PROMPT_PLACEHOLDER
          + ", or every request would get the same prompt");
    }
    if (maxN < 1) {
      throw new IllegalArgumentException("AIGC_MAX_N must be at least 1, got " + maxN);
    }
  }

  public static TokenizerConfig fromEnv(Env env) {
    return new TokenizerConfig(
        env.path("AIGC_MODEL_DIR", Path.of("models", "tiny-llama")),
        promptTemplate(env),
        env.integer("AIGC_MAX_N", 8),
        TokenizerService.NAME + "@" + env.optional("HOSTNAME").orElseGet(TokenizerConfig::hostName),
        Topics.fromEnvironment(env.asMap()),
        env);
  }

  /** Verbatim, unlike other variables: a template's leading and trailing newlines are part of the format. */
  private static String promptTemplate(Env env) {
    String raw = env.asMap().get("AIGC_PROMPT_TEMPLATE");
    return raw == null || raw.isEmpty() ? PROMPT_PLACEHOLDER : raw;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
