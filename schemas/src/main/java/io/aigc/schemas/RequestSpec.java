package io.aigc.schemas;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A generation request as a caller states it, before it is a job: what the gateway makes of an HTTP body, what a
 * command-line client or a test makes of its input, with the {@link RequestRules} defaults filled in. Two specs are
 * equal exactly when they would generate the same job, which is what an idempotent retry is compared by.
 * {@link #toEvent} is the one mapping from it to the {@link GenerationRequest} published on the requests topic.
 *
 * @param prompt the text to continue; empty when {@code messages} is set
 * @param messages a chat conversation, rendered with the model's chat template; null for a plain prompt
 * @param task a named task (see {@link Tasks}) whose template the tokenizer stage renders with {@code taskFields};
 *     null for a prompt or a chat
 * @param taskFields the task's fields; empty without a task
 * @param seed null when sampling need not be reproducible
 * @param ignoreEos generate max_tokens tokens even past the end-of-sequence token
 * @param logitBias token id to a bias added to its logit
 * @param logprobs null, or how many most likely alternatives to report with each token's log-probability
 * @param metadata carried unchanged into the completion
 * @param timeout null when the job has no deadline
 * @param model the model asked for; null for the deployment's default
 */
public record RequestSpec(String prompt, List<Message> messages, String task, Map<String, String> taskFields,
    int maxTokens, double temperature, double topP,
    int topK, double minP, int n, List<String> stop, Long seed, boolean ignoreEos, double presencePenalty,
    double frequencyPenalty, double repetitionPenalty, int minTokens, Map<Integer, Double> logitBias,
    Integer logprobs, Map<String, String> metadata, Duration timeout, String model) {

  /** One turn of a conversation. */
  public record Message(String role, String content) {}

  public RequestSpec {
    messages = messages == null ? null : List.copyOf(messages);
    taskFields = Map.copyOf(taskFields);
    stop = List.copyOf(stop);
    logitBias = Map.copyOf(logitBias);
    metadata = Map.copyOf(metadata);
  }

  /** Whether this is a chat conversation rather than a prompt. */
  public boolean isChat() {
    return messages != null;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** This spec as sent by the caller with API key {@code keyName}; itself when {@code keyName} is null (no keys). */
  public RequestSpec ownedBy(String keyName) {
    if (keyName == null) {
      return this;
    }
    Map<String, String> owned = new HashMap<>(metadata);
    owned.put(RequestRules.API_KEY_NAME, keyName);
    return toBuilder().metadata(owned).build();
  }

  /** The name of the API key that sent it, or null. */
  public String owner() {
    return metadata.get(RequestRules.API_KEY_NAME);
  }

  public Builder toBuilder() {
    return new Builder().prompt(prompt).messages(messages).task(task, taskFields).maxTokens(maxTokens)
        .temperature(temperature).topP(topP).topK(topK).minP(minP).n(n).stop(stop).seed(seed).ignoreEos(ignoreEos)
        .penalties(presencePenalty, frequencyPenalty, repetitionPenalty).minTokens(minTokens).logitBias(logitBias)
        .logprobs(logprobs).metadata(metadata).timeout(timeout).model(model);
  }

  /**
   * The event published to the requests topic for job {@code requestId}, created at {@code createdAt}, for this
   * spec's model or else {@code defaultModel} (which may be null: whichever the tokenizer serves first).
   */
  public GenerationRequest toEvent(String requestId, Instant createdAt, String defaultModel) {
    return GenerationRequest.newBuilder()
        .setRequestId(requestId)
        .setCreatedAt(createdAt.toEpochMilli())
        .setDeadline(timeout == null ? null : createdAt.plus(timeout).toEpochMilli())
        .setModel(model != null ? model : defaultModel)
        .setPrompt(prompt)
        .setMessages(messages == null ? null
            : messages.stream().map(m -> new ChatMessage(m.role(), m.content())).toList())
        .setTask(task)
        .setTaskFields(taskFields)
        .setParams(GenerationParams.newBuilder()
            .setMaxTokens(maxTokens)
            .setTemperature(temperature)
            .setTopP(topP)
            .setTopK(topK)
            .setMinP(minP)
            .setN(n)
            .setSeed(seed)
            .setStop(stop)
            .setIgnoreEos(ignoreEos)
            .setPresencePenalty(presencePenalty)
            .setFrequencyPenalty(frequencyPenalty)
            .setRepetitionPenalty(repetitionPenalty)
            .setMinTokens(minTokens)
            .setLogitBias(logitBias.entrySet().stream()
                .collect(Collectors.toMap(e -> Integer.toString(e.getKey()), Map.Entry::getValue)))
            .setLogprobs(logprobs)
            .build())
        .setMetadata(metadata)
        .setStreamPartition(null)
        .build();
  }

  /** Prompts, messages and task fields are never logged: only their size. */
  @Override
  public String toString() {
    return "RequestSpec[" + (isChat() ? messages.size() + " messages" : task != null ? "task=" + task + ", "
        + taskFields.size() + " fields" : "prompt=" + prompt.length() + " chars")
        + ", max_tokens=" + maxTokens + ", n=" + n + "]";
  }

  /** Starts from the {@link RequestRules} defaults; {@link #build} refuses values out of their intrinsic ranges. */
  public static final class Builder {
    private String prompt = "";
    private List<Message> messages;
    private String task;
    private Map<String, String> taskFields = Map.of();
    private int maxTokens = RequestRules.DEFAULT_MAX_TOKENS;
    private double temperature = RequestRules.DEFAULT_TEMPERATURE;
    private double topP = RequestRules.DEFAULT_TOP_P;
    private int topK = RequestRules.DEFAULT_TOP_K;
    private double minP;
    private int n = RequestRules.DEFAULT_N;
    private List<String> stop = List.of();
    private Long seed;
    private boolean ignoreEos;
    private double presencePenalty;
    private double frequencyPenalty;
    private double repetitionPenalty = 1;
    private int minTokens;
    private Map<Integer, Double> logitBias = Map.of();
    private Integer logprobs;
    private Map<String, String> metadata = Map.of();
    private Duration timeout;
    private String model;

    private Builder() {}

    /** The model asked for; null for the deployment's default. */
    public Builder model(String model) {
      this.model = model;
      return this;
    }

    public Builder prompt(String prompt) {
      this.prompt = prompt;
      return this;
    }

    /** A conversation instead of a prompt (which then stays empty); null for a prompt. */
    public Builder messages(List<Message> messages) {
      this.messages = messages;
      return this;
    }

    /** A named task and its fields instead of a prompt (which then stays empty); null for a prompt or a chat. */
    public Builder task(String task, Map<String, String> fields) {
      this.task = task;
      this.taskFields = fields;
      return this;
    }

    public Builder maxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    /** 0 is greedy decoding. */
    public Builder temperature(double temperature) {
      this.temperature = temperature;
      return this;
    }

    public Builder topP(double topP) {
      this.topP = topP;
      return this;
    }

    public Builder topK(int topK) {
      this.topK = topK;
      return this;
    }

    public Builder minP(double minP) {
      this.minP = minP;
      return this;
    }

    /** OpenAI's presence and frequency penalties and Hugging Face's repetition penalty (1 is off). */
    public Builder penalties(double presence, double frequency, double repetition) {
      this.presencePenalty = presence;
      this.frequencyPenalty = frequency;
      this.repetitionPenalty = repetition;
      return this;
    }

    public Builder minTokens(int minTokens) {
      this.minTokens = minTokens;
      return this;
    }

    public Builder logitBias(Map<Integer, Double> logitBias) {
      this.logitBias = logitBias;
      return this;
    }

    /** null: no log-probabilities; otherwise how many most likely alternatives to report per token. */
    public Builder logprobs(Integer logprobs) {
      this.logprobs = logprobs;
      return this;
    }

    public Builder n(int n) {
      this.n = n;
      return this;
    }

    public Builder stop(List<String> stop) {
      this.stop = stop;
      return this;
    }

    public Builder seed(Long seed) {
      this.seed = seed;
      return this;
    }

    public Builder ignoreEos(boolean ignoreEos) {
      this.ignoreEos = ignoreEos;
      return this;
    }

    public Builder metadata(Map<String, String> metadata) {
      this.metadata = metadata;
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** Throws {@link IllegalArgumentException} with the rule's message for a value out of its range. */
    public RequestSpec build() {
      RequestSpec spec = new RequestSpec(prompt, messages, task, taskFields, maxTokens, temperature, topP, topK, minP,
          n, stop, seed,
          ignoreEos, presencePenalty, frequencyPenalty, repetitionPenalty, minTokens, logitBias, logprobs, metadata,
          timeout, model);
      List<RequestRules.Violation> violations = RequestRules.check(spec.toEvent("-", Instant.EPOCH, null).getParams(),
          RequestRules.Limits.NONE);
      if (!violations.isEmpty()) {
        throw new IllegalArgumentException(violations.get(0).message());
      }
      return spec;
    }
  }
}
