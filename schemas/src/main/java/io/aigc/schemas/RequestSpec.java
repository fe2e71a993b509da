package io.aigc.schemas;

import io.aigc.model.SamplingParams;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A generation request as a caller states it, before it is a job: what the gateway makes of an HTTP body, what a
 * command-line client or a test makes of its input, with the defaults filled in. Two specs are equal exactly when they
 * would generate the same job, which is what an idempotent retry is compared by. {@link #toEvent} is the one mapping
 * from it to the {@link GenerationRequest} published on the requests topic.
 *
 * @param prompt the text to continue; empty when {@code messages} is set
 * @param messages a chat conversation, rendered with the model's chat template; null for a plain prompt
 * @param task a named task (see {@link Tasks}) whose template the tokenizer stage renders with {@code taskFields};
 *     null for a prompt or a chat
 * @param taskFields the task's fields; empty without a task
 * @param sampling how the tokens are chosen and when they stop: the very value the engine samples with
 * @param metadata carried unchanged into the completion
 * @param timeout null when the job has no deadline
 * @param model the model asked for; null for the deployment's default
 */
public record RequestSpec(String prompt, List<Message> messages, String task, Map<String, String> taskFields,
    SamplingParams sampling, Map<String, String> metadata, Duration timeout, String model) {

  /** One turn of a conversation. */
  public record Message(String role, String content) {}

  public RequestSpec {
    messages = messages == null ? null : List.copyOf(messages);
    taskFields = Map.copyOf(taskFields);
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
    return toBuilder().putMetadata(RequestRules.API_KEY_NAME, keyName).build();
  }

  /** The name of the API key that sent it, or null. */
  public String owner() {
    return metadata.get(RequestRules.API_KEY_NAME);
  }

  public Builder toBuilder() {
    Builder builder = new Builder().prompt(prompt).messages(messages).task(task, taskFields).metadata(metadata)
        .timeout(timeout).model(model);
    builder.sampling = sampling.toBuilder();
    return builder;
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
        .setParams(toParams(sampling))
        .setMetadata(metadata)
        .setStreamPartition(null)
        .build();
  }

  /**
   * The contract's form of sampling parameters, and {@link #fromParams} the way back: token ids as map keys are
   * strings, and no logprobs is null. A parameter added to both is mapped here, both ways.
   */
  public static GenerationParams toParams(SamplingParams p) {
    return GenerationParams.newBuilder()
        .setMaxTokens(p.maxTokens()).setMinTokens(p.minTokens()).setN(p.n()).setStop(p.stop())
        .setIgnoreEos(p.ignoreEos())
        .setTemperature(p.temperature()).setTopP(p.topP()).setTopK(p.topK()).setMinP(p.minP()).setSeed(p.seed())
        .setPresencePenalty(p.presencePenalty()).setFrequencyPenalty(p.frequencyPenalty())
        .setRepetitionPenalty(p.repetitionPenalty())
        .setLogitBias(p.logitBias().entrySet().stream()
            .collect(Collectors.toMap(e -> Integer.toString(e.getKey()), Map.Entry::getValue)))
        .setLogprobs(p.wantsLogprobs() ? p.logprobs() : null)
        .build();
  }

  /**
   * The sampling parameters of an event, as the worker generates them. Throws {@link IllegalArgumentException} for
   * values out of their intrinsic ranges, which {@link RequestRules#check} reports in the caller's words first.
   */
  public static SamplingParams fromParams(GenerationParams p) {
    Map<Integer, Double> bias = new HashMap<>();
    p.getLogitBias().forEach((token, value) -> bias.put(Integer.valueOf(token), value));
    return SamplingParams.builder().maxTokens(p.getMaxTokens()).temperature(p.getTemperature()).topP(p.getTopP())
        .topK(p.getTopK()).minP(p.getMinP()).n(p.getN()).seed(p.getSeed()).stop(p.getStop())
        .ignoreEos(p.getIgnoreEos()).presencePenalty(p.getPresencePenalty())
        .frequencyPenalty(p.getFrequencyPenalty()).repetitionPenalty(p.getRepetitionPenalty())
        .minTokens(p.getMinTokens()).logitBias(bias).logprobs(p.getLogprobs() == null ? -1 : p.getLogprobs())
        .build();
  }

  /** Prompts, messages and task fields are never logged: only their size. */
  @Override
  public String toString() {
    return "RequestSpec[" + (isChat() ? messages.size() + " messages" : task != null ? "task=" + task + ", "
        + taskFields.size() + " fields" : "prompt=" + prompt.length() + " chars")
        + ", max_tokens=" + sampling.maxTokens() + ", n=" + sampling.n() + "]";
  }

  /**
   * Starts from an empty prompt and OpenAI's defaults; {@link #build} refuses values out of the {@link RequestRules}'
   * intrinsic ranges.
   */
  public static final class Builder {
    private String prompt = "";
    private List<Message> messages;
    private String task;
    private Map<String, String> taskFields = Map.of();
    private SamplingParams.Builder sampling = SamplingParams.builder();
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
      this.prompt = Objects.requireNonNull(prompt, "prompt");
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

    /**
     * Changes the sampling parameters set so far, as in {@code sampling(s -> s.maxTokens(32).temperature(0))}: a body
     * reader can set some and a later one the rest.
     */
    public Builder sampling(UnaryOperator<SamplingParams.Builder> change) {
      sampling = change.apply(sampling);
      return this;
    }

    public Builder metadata(Map<String, String> metadata) {
      this.metadata = Map.copyOf(metadata);
      return this;
    }

    /** Adds {@code key} to the metadata set so far, or replaces its value. */
    public Builder putMetadata(String key, String value) {
      Map<String, String> more = new HashMap<>(metadata);
      more.put(key, value);
      metadata = more;
      return this;
    }

    /** null: no deadline. */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** Throws {@link IllegalArgumentException} with the rule's message for a value out of its range. */
    public RequestSpec build() {
      SamplingParams params = sampling.build();
      RequestRules.check(toParams(params), RequestRules.Limits.NONE).stream().findFirst().ifPresent(violation -> {
        throw new IllegalArgumentException(violation.message());
      });
      return new RequestSpec(prompt, messages, task, taskFields, params, metadata, timeout, model);
    }
  }
}
