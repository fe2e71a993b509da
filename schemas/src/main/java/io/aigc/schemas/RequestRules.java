package io.aigc.schemas;

import io.aigc.model.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What a generation request may be: every parameter's range, defined once and applied by the gateway (to HTTP
 * bodies), by the tokenizer (to records of producers that bypass the gateway) and by the worker; the defaults are
 * {@link SamplingParams}' own, which a {@link RequestSpec} holds. Messages
 * use OpenAI's wording ({@code Invalid 'temperature': expected a number between 0 and 2, but got 3 instead.}), so a
 * caller reads the same sentence whichever way the request came in.
 *
 * <p>A deployment narrows two of the ranges ({@link Limits}): the largest {@code max_tokens} and {@code n}.
 */
public final class RequestRules {
  /** The largest {@code n} a deployment allows unless configured otherwise. */
  public static final int DEFAULT_MAX_N = 8;
  public static final double MAX_TEMPERATURE = 2;
  public static final int MAX_STOP_SEQUENCES = 4;
  public static final int MAX_METADATA_ENTRIES = 16;
  public static final int MAX_METADATA_KEY_LENGTH = 64;
  public static final int MAX_METADATA_VALUE_LENGTH = 512;
  public static final int MAX_USER_LENGTH = 256;
  public static final double MAX_TIMEOUT_SECONDS = 86_400;
  /** Top alternatives a request may ask for per token (OpenAI's chat limit; its completions allow 5). */
  public static final int MAX_LOGPROBS = SamplingParams.MAX_LOGPROBS;
  public static final double MAX_LOGIT_BIAS = 100;
  /**
   * The metadata key naming the API key that created a job, so consumers of the completions topic can attribute
   * jobs, and a restarted gateway knows whose job a completion is. Reserved: callers cannot set it.
   */
  public static final String API_KEY_NAME = "api_key_name";
  /** The metadata key the OpenAI {@code user} field travels under. */
  public static final String USER = "user";

  /** What a deployment allows beyond the intrinsic ranges: the largest {@code max_tokens} and {@code n}. */
  public record Limits(int maxTokens, int maxN) {
    /** No deployment limit: only the intrinsic ranges (what the worker checks, which knows no gateway's limits). */
    public static final Limits NONE = new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE);

    public Limits {
      if (maxTokens < 1 || maxN < 1) {
        throw new IllegalArgumentException("limits must be at least 1");
      }
    }
  }

  /** A request that breaks a rule: the parameter and the whole sentence for the caller. */
  public record Violation(String param, String message) {}

  /**
   * A parameter's range.
   *
   * @param param the parameter's name in the API and the contract
   * @param expected what it may be, as the messages say it ("a number between 0 and 2")
   */
  public record Range<T>(String param, String expected, Predicate<T> allowed) {
    public boolean allows(T value) {
      return allowed.test(value);
    }

    /** The violation of {@code value}, shown as {@code shown} (a JSON body's own spelling of it, say). */
    public Optional<Violation> check(T value, String shown) {
      return allows(value) ? Optional.empty() : Optional.of(new Violation(param,
          "Invalid '" + param + "': expected " + expected + ", but got " + shown + " instead."));
    }

    public Optional<Violation> check(T value) {
      return check(value, String.valueOf(value));
    }
  }

  // Written so that NaN fails every comparison and is refused too.
  public static final Range<Double> TEMPERATURE = new Range<>("temperature", "a number between 0 and 2",
      v -> v >= 0 && v <= MAX_TEMPERATURE);
  public static final Range<Double> TOP_P = new Range<>("top_p", "a number greater than 0 and at most 1",
      v -> v > 0 && v <= 1);
  public static final Range<Integer> TOP_K = new Range<>("top_k", "an integer of at least 0 (0 disables top-k)",
      v -> v >= 0);
  public static final Range<Double> PRESENCE_PENALTY = new Range<>("presence_penalty", "a number between -2 and 2",
      v -> v >= -2 && v <= 2);
  public static final Range<Double> FREQUENCY_PENALTY = new Range<>("frequency_penalty",
      "a number between -2 and 2", v -> v >= -2 && v <= 2);
  public static final Range<Double> REPETITION_PENALTY = new Range<>("repetition_penalty",
      "a number greater than 0 and at most 10 (1 disables it)", v -> v > 0 && v <= 10);
  public static final Range<Double> MIN_P = new Range<>("min_p", "a number between 0 and 1 (0 disables it)",
      v -> v >= 0 && v <= 1);
  public static final Range<Integer> MIN_TOKENS = new Range<>("min_tokens", "an integer of at least 0",
      v -> v >= 0);
  public static final Range<Integer> LOGPROBS = new Range<>("logprobs", "an integer between 0 and " + MAX_LOGPROBS,
      v -> v >= 0 && v <= MAX_LOGPROBS);
  public static final Range<Double> TIMEOUT_SECONDS = new Range<>("timeout_seconds",
      "a number of seconds greater than 0 and at most " + (long) MAX_TIMEOUT_SECONDS,
      v -> v > 0 && v <= MAX_TIMEOUT_SECONDS);

  private RequestRules() {}

  public static Range<Integer> maxTokens(Limits limits) {
    return atLeastOne("max_tokens", limits.maxTokens());
  }

  public static Range<Integer> n(Limits limits) {
    return atLeastOne("n", limits.maxN());
  }

  private static Range<Integer> atLeastOne(String param, int limit) {
    return new Range<>(param, limit == Integer.MAX_VALUE ? "an integer of at least 1" : "an integer between 1 and "
        + limit, v -> v >= 1 && v <= limit);
  }

  /** At most {@value #MAX_STOP_SEQUENCES} stop strings, none empty (an empty one would cut every text to nothing). */
  public static Optional<Violation> stop(List<String> stop) {
    if (stop.size() > MAX_STOP_SEQUENCES) {
      return Optional.of(new Violation("stop", "Invalid 'stop': at most " + MAX_STOP_SEQUENCES
          + " stop sequences, got " + stop.size() + "."));
    }
    for (int i = 0; i < stop.size(); i++) {
      if (stop.get(i).isEmpty()) {
        return Optional.of(new Violation("stop", "Invalid 'stop': stop sequences must not be empty, and stop[" + i
            + "] is."));
      }
    }
    return Optional.empty();
  }

  /** OpenAI's limits on metadata, and the reserved {@value #API_KEY_NAME}. */
  public static Optional<Violation> metadata(Map<String, String> metadata) {
    if (metadata.size() > MAX_METADATA_ENTRIES) {
      return Optional.of(new Violation("metadata", "Invalid 'metadata': at most " + MAX_METADATA_ENTRIES
          + " keys, got " + metadata.size() + "."));
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      if (e.getKey().equals(API_KEY_NAME)) {
        return Optional.of(new Violation("metadata", "Invalid 'metadata': the key '" + API_KEY_NAME
            + "' is reserved; the gateway sets it to the name of the caller's API key."));
      }
      if (e.getKey().isEmpty() || e.getKey().length() > MAX_METADATA_KEY_LENGTH) {
        return Optional.of(new Violation("metadata", "Invalid 'metadata': keys must be 1 to "
            + MAX_METADATA_KEY_LENGTH + " characters long."));
      }
      if (e.getValue().length() > MAX_METADATA_VALUE_LENGTH) {
        return Optional.of(new Violation("metadata", "Invalid 'metadata." + e.getKey() + "': at most "
            + MAX_METADATA_VALUE_LENGTH + " characters."));
      }
    }
    return Optional.empty();
  }

  /** min_tokens may not exceed max_tokens (vLLM's rule: the request could never end as asked). */
  public static Optional<Violation> minTokens(int minTokens, int maxTokens) {
    return minTokens <= maxTokens ? Optional.empty() : Optional.of(new Violation("min_tokens",
        "Invalid 'min_tokens': must be at most max_tokens (" + maxTokens + "), got " + minTokens + "."));
  }

  /** Token ids (decimal) mapped to biases in [-100, 100], as OpenAI's {@code logit_bias}. */
  public static Optional<Violation> logitBias(Map<String, Double> bias) {
    for (Map.Entry<String, Double> e : bias.entrySet()) {
      if (!e.getKey().matches("0|[1-9][0-9]{0,8}")) {
        return Optional.of(new Violation("logit_bias", "Invalid 'logit_bias': keys must be token ids, got '"
            + e.getKey() + "'."));
      }
      if (!(Math.abs(e.getValue()) <= MAX_LOGIT_BIAS)) {
        return Optional.of(new Violation("logit_bias", "Invalid 'logit_bias': biases must be between -100 and 100,"
            + " got " + e.getValue() + " for token " + e.getKey() + "."));
      }
    }
    return Optional.empty();
  }

  /** A conversation: at least one message, each with a role. */
  public static Optional<Violation> messages(List<ChatMessage> messages) {
    if (messages.isEmpty()) {
      return Optional.of(new Violation("messages", "Invalid 'messages': at least one message is required."));
    }
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i).getRole().isEmpty()) {
        return Optional.of(new Violation("messages", "Invalid 'messages[" + i + "].role': must not be empty."));
      }
    }
    return Optional.empty();
  }

  /**
   * A task request's shape: a task name, and neither a prompt nor messages (the task's template makes the prompt).
   * Whether the deployment has the task, and the fields it needs, is the {@link Tasks} catalogue's check.
   */
  public static Optional<Violation> task(GenerationRequest request) {
    if (request.getTask().isEmpty()) {
      return Optional.of(new Violation("task", "Invalid 'task': must not be empty."));
    }
    if (!request.getPrompt().isEmpty()) {
      return Optional.of(new Violation("prompt", "Invalid 'prompt': must be empty when 'task' is set."));
    }
    if (request.getMessages() != null) {
      return Optional.of(new Violation("messages", "Invalid 'messages': not allowed when 'task' is set."));
    }
    return Optional.empty();
  }

  /** The sampling parameters of a request event, every rule in order. */
  public static List<Violation> check(GenerationParams p, Limits limits) {
    List<Violation> violations = new ArrayList<>();
    maxTokens(limits).check(p.getMaxTokens()).ifPresent(violations::add);
    TEMPERATURE.check(p.getTemperature()).ifPresent(violations::add);
    TOP_P.check(p.getTopP()).ifPresent(violations::add);
    TOP_K.check(p.getTopK()).ifPresent(violations::add);
    n(limits).check(p.getN()).ifPresent(violations::add);
    stop(p.getStop()).ifPresent(violations::add);
    PRESENCE_PENALTY.check(p.getPresencePenalty()).ifPresent(violations::add);
    FREQUENCY_PENALTY.check(p.getFrequencyPenalty()).ifPresent(violations::add);
    REPETITION_PENALTY.check(p.getRepetitionPenalty()).ifPresent(violations::add);
    MIN_P.check(p.getMinP()).ifPresent(violations::add);
    MIN_TOKENS.check(p.getMinTokens()).ifPresent(violations::add);
    minTokens(p.getMinTokens(), p.getMaxTokens()).ifPresent(violations::add);
    logitBias(p.getLogitBias()).ifPresent(violations::add);
    if (p.getLogprobs() != null) {
      LOGPROBS.check(p.getLogprobs()).ifPresent(violations::add);
    }
    return violations;
  }

  /**
   * What is wrong with a request event published under {@code key}, first problem first: its id (the record key must
   * be it), its prompt, its parameters.
   */
  public static List<Violation> check(String key, GenerationRequest request, Limits limits) {
    List<Violation> violations = new ArrayList<>();
    if (request.getRequestId().isEmpty()) {
      violations.add(new Violation("request_id", "Invalid 'request_id': must not be empty."));
    } else if (!request.getRequestId().equals(key)) {
      violations.add(new Violation("request_id", "Invalid 'request_id': '" + request.getRequestId()
          + "' does not match the record key '" + key + "'; the key must be the request id."));
    }
    if (request.getTask() != null) {
      task(request).ifPresent(violations::add);
    } else if (!request.getTaskFields().isEmpty()) {
      violations.add(new Violation("task_fields", "Invalid 'task_fields': only with a 'task'."));
    } else if (request.getMessages() != null) {
      if (!request.getPrompt().isEmpty()) {
        violations.add(new Violation("prompt", "Invalid 'prompt': must be empty when 'messages' is set."));
      }
      messages(request.getMessages()).ifPresent(violations::add);
    } else if (request.getPrompt().isEmpty()) {
      violations.add(new Violation("prompt", "Invalid 'prompt': must not be empty."));
    }
    violations.addAll(check(request.getParams(), limits));
    return violations;
  }
}
