package io.aigc.tokenizer;

import io.aigc.model.ModelDirectory;
import io.aigc.runtime.CommonConfig;
import io.aigc.runtime.Env;
import io.aigc.runtime.ServiceDefaults;
import io.aigc.runtime.streams.StreamsSettings;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.Tasks;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;

/**
 * The tokenizer-service's configuration, read once from the environment (the README's table lists every variable).
 *
 * @param modelDirs {@code AIGC_MODEL_DIR}: the served models, comma-separated, the default (for requests that name
 *     none) first; each folder's name is its model's name, its {@code tokenizer.json} tokenizes that model's prompts
 *     and its {@code config.json} gives the context length
 * @param promptTemplate {@code AIGC_PROMPT_TEMPLATE}: the text the model sees, every {@code {prompt}} replaced by the
 *     request's prompt; taken verbatim, not trimmed
 * @param tasks {@code AIGC_TASKS_FILE}: the named tasks, the built-in ones extended by the operator's file
 * @param maxN {@code AIGC_MAX_N}: the most choices one request may ask for
 * @param chatTemplate {@code AIGC_CHAT_TEMPLATE}: a file with the Jinja chat template that renders chat messages,
 *     for a model whose tokenizer_config.json has none (or to replace its own); null uses the model's. It applies to
 *     the default model only: the others use their own
 * @param producer {@code tokenizer-service@HOSTNAME}: names this instance in the error events it writes
 */
public record TokenizerConfig(List<Path> modelDirs, String promptTemplate, Path chatTemplate, Tasks tasks, int maxN,
    String producer, CommonConfig common, StreamsSettings streams) {
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
    String template = env.verbatim("AIGC_PROMPT_TEMPLATE");
    return new TokenizerConfig(
        ModelDirectory.list(env.string("AIGC_MODEL_DIR", ModelDirectory.DEFAULT.toString())),
        template == null || template.isEmpty() ? PROMPT_PLACEHOLDER : template,
        env.path("AIGC_CHAT_TEMPLATE", null),
        Tasks.load(env.path("AIGC_TASKS_FILE", null)),
        env.integer("AIGC_MAX_N", RequestRules.DEFAULT_MAX_N),
        TokenizerTopology.NAME + "@" + env.optional("HOSTNAME").orElseGet(TokenizerConfig::hostName),
        CommonConfig.fromEnv(env),
        StreamsSettings.fromEnv(env, ServiceDefaults.TOKENIZER_APPLICATION_ID, ServiceDefaults.TOKENIZER_METRICS_PORT));
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
