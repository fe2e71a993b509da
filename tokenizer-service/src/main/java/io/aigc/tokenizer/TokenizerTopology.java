package io.aigc.tokenizer;

import io.aigc.text.ChatMessage;
import io.aigc.text.ChatTemplate;
import io.aigc.text.ModelTokenizers;
import io.aigc.text.PromptTemplate;
import io.aigc.text.TextTokenizer;
import io.aigc.runtime.streams.GuardedProcessor;
import io.aigc.runtime.streams.RecordHandler;
import io.aigc.runtime.streams.RejectedRecordException;
import io.aigc.runtime.streams.Routed;
import io.aigc.runtime.streams.StreamsService;
import io.aigc.schemas.DeadLetterReason;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.Events;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.Tasks;
import io.aigc.schemas.TokenizedRequest;
import io.aigc.schemas.Topic;
import io.aigc.schemas.Topics;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;

/**
 * requests → tokenized.&lt;model&gt;: a request's prompt, templated and tokenized for the model it names, for that
 * model's inference workers (each model has a tokenized topic and a worker pool of its own). A request that cannot be served gets its error as a {@code GeneratedSequence} on the generated topic
 * (the postprocessor writes every completion); a record that cannot be processed also goes to the dead-letter topic.
 */
public final class TokenizerTopology {
  /** The service's name in logs, metrics and the dead letters it writes. */
  static final String NAME = "tokenizer-service";

  private TokenizerTopology() {}

  /** The service: this topology over every model's tokenizer, run by a {@link StreamsService} exactly once. */
  public static StreamsService service(TokenizerConfig config) {
    return StreamsService.overModels(NAME, config.common(), config.streams(), config.modelDirs(),
        (tokenizers, registry) -> build(config, tokenizers.all(), new TokenizerMetrics(registry)));
  }

  /** The topology for {@code models}, the first of which is the default. */
  static Topology build(TokenizerConfig config, List<ModelTokenizers.Served> models, TokenizerMetrics metrics) {
    Topics topics = config.common().topics();
    // Parsed once, here, so a broken AIGC_CHAT_TEMPLATE stops the service at startup rather than every request.
    Map<String, Served> served = new HashMap<>();
    String defaultModel = models.get(0).name();
    for (ModelTokenizers.Served model : models) {
      Optional<ChatTemplate> chat = config.chatTemplate() != null && model.name().equals(defaultModel)
          ? Optional.of(ChatTemplate.fromFile(config.chatTemplate(), model.model()))
          : ChatTemplate.forModel(model.model());
      served.put(model.name(), new Served(model.name(), model.model().contextLength(), model.tokenizer(), chat,
          topics.tokenized(model.name())));
    }
    // So are the tasks' prompt templates: a task whose template does not parse stops the service here.
    Map<String, PromptTemplate> tasks = new LinkedHashMap<>();
    for (Tasks.Task task : config.tasks().all()) {
      try {
        tasks.put(task.name(), PromptTemplate.of(task.template()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the task '" + task.name() + "': " + e.getMessage(), e);
      }
    }
    StreamsBuilder builder = new StreamsBuilder();
    builder
        // Bytes, not GenerationRequests: a record that does not decode must become a dead letter within this
        // record's transaction, where a deserialization error in the consumer would skip it or stop the partition.
        .stream(topics.requests().name(), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("requests"))
        // Decode, check, template and tokenize in one processor (Tokenize, below): a dead letter needs the source
        // partition and offset, which only the Processor API gives, and every failure on the way must be caught.
        .process(GuardedProcessor.supplier(NAME, topics.requests(), topics.dlq(),
            metrics.deadLetters, () -> new Tokenize(config, served, defaultModel, tasks, metrics)),
            Named.as("tokenize"))
        // Each outcome names its topic: the model's tokenized topic for its workers, generated for an error (so the postprocessor
        // stays the single writer of completions), dlq for the record that could not be processed.
        .to(Routed.TOPIC, Routed.produced());
    return builder.build();
  }

  /** What the tokenizer knows of one served model, and where its tokenized requests go. */
  record Served(String name, int contextLength, TextTokenizer tokenizer, Optional<ChatTemplate> chat,
      Topic<TokenizedRequest> topic) {}

  /** One request's way through the service, step by step. */
  static final class Tokenize implements RecordHandler<GenerationRequest> {
    private final Topics topics;
    private final String template;
    private final RequestRules.Limits limits;
    private final String producer;
    private final Map<String, Served> models;
    private final String defaultModel;
    private final Tasks tasks;
    private final Map<String, PromptTemplate> taskTemplates;
    private final TokenizerMetrics metrics;

    Tokenize(TokenizerConfig config, Map<String, Served> models, String defaultModel,
        Map<String, PromptTemplate> taskTemplates, TokenizerMetrics metrics) {
      this.topics = config.common().topics();
      this.template = config.promptTemplate();
      // max_tokens is bounded by the context length, checked below with the prompt's real length.
      this.limits = new RequestRules.Limits(Integer.MAX_VALUE, config.maxN());
      this.producer = config.producer();
      this.models = Map.copyOf(models);
      this.defaultModel = defaultModel;
      this.tasks = config.tasks();
      this.taskTemplates = taskTemplates;
      this.metrics = metrics;
    }

    @Override
    public String requestId(GenerationRequest request) {
      return request.getRequestId();
    }

    @Override
    public List<Routed> handle(String key, GenerationRequest request, Instant now) {
      // 1. Any producer may write to the requests topic, not only the gateway: a value out of range is that
      //    producer's bug, kept as a dead letter, and its caller is told which field is wrong, in the gateway's words.
      List<RequestRules.Violation> violations = RequestRules.check(key, request, limits);
      if (!violations.isEmpty()) {
        throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, ErrorCodes.INVALID_REQUEST,
            violations.get(0).message());
      }
      //    A named task must be one this deployment has, given the fields it takes. Its defaults fill the parameters
      //    left at the contract's, and the request travels on with them, so the worker and the postprocessor (stop
      //    strings) apply what the tokenizer decided. Metadata is the caller's and stays untouched.
      if (request.getTask() != null) {
        Optional<RequestRules.Violation> wrong = tasks.check(request.getTask(), request.getTaskFields());
        if (wrong.isPresent()) {
          throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, ErrorCodes.INVALID_REQUEST,
              wrong.get().message());
        }
        request = GenerationRequest.newBuilder(request)
            .setParams(tasks.get(request.getTask()).orElseThrow().applyDefaults(request.getParams()))
            .build();
        List<RequestRules.Violation> withDefaults = RequestRules.check(request.getParams(), limits);
        if (!withDefaults.isEmpty()) {
          throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, ErrorCodes.INVALID_REQUEST,
              withDefaults.get(0).message() + " (with the defaults of the task '" + request.getTask() + "')");
        }
      }

      // 2. A caller who has given up is not served: generating for it would only delay everyone else.
      if (request.getDeadline() != null && !now.isBefore(Instant.ofEpochMilli(request.getDeadline()))) {
        return fail(key, request, request.getModel() == null ? defaultModel : request.getModel(),
            ErrorCodes.DEADLINE_EXCEEDED,
            "The request's deadline (" + Instant.ofEpochMilli(request.getDeadline()) + ") passed before it was tokenized.");
      }

      // 3. The model it names, or the default one. The gateway lets no unknown model through, so one here comes
      //    from a producer that bypassed it: its bug, kept as a dead letter, and its caller told as OpenAI would.
      Served model = models.get(request.getModel() == null ? defaultModel : request.getModel());
      if (model == null) {
        throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, ErrorCodes.MODEL_NOT_FOUND,
            "The model '" + request.getModel() + "' does not exist; this deployment serves '"
                + String.join("', '", models.keySet().stream().sorted().toList()) + "'.");
      }
      String modelName = model.name();
      TextTokenizer tokenizer = model.tokenizer();
      Optional<ChatTemplate> chat = model.chat();
      int contextLength = model.contextLength();

      // 4. What the model sees: a conversation rendered with the model's chat template, up to the assistant's turn,
      //    or the prompt inside the deployment's template (replace, not a regex: a prompt may hold $); a named task's
      //    prompt is its template rendered with the request's fields, then inside the deployment's template too.
      // 5. Tokenize: BOS exactly once where the model wants it (a chat template that writes it gets no second one).
      int[] ids;
      if (request.getMessages() != null) {
        if (chat.isEmpty()) {
          return fail(key, request, modelName, ErrorCodes.INVALID_REQUEST, "The model '" + modelName + "' has no chat "
              + "template, so it cannot take messages; send a prompt, or ask the operator to set AIGC_CHAT_TEMPLATE.");
        }
        try {
          ids = tokenizer.encodeChat(chat.get().render(request.getMessages().stream()
              .map(m -> new ChatMessage(m.getRole(), m.getContent())).toList(), true));
        } catch (ChatTemplate.TemplateException e) {
          return fail(key, request, modelName, ErrorCodes.INVALID_REQUEST, e.raisedByTemplate() ? e.getMessage()
              : "The model's chat template cannot render these messages: " + e.getMessage());
        }
      } else {
        String prompt = request.getPrompt();
        if (request.getTask() != null) {
          try {
            prompt = taskTemplates.get(request.getTask()).render(request.getTaskFields());
          } catch (ChatTemplate.TemplateException e) {
            return fail(key, request, modelName, ErrorCodes.INVALID_REQUEST, e.raisedByTemplate() ? e.getMessage()
                : "The task '" + request.getTask() + "' cannot render these fields: " + e.getMessage());
          }
        }
        ids = tokenizer.encode(template.replace(TokenizerConfig.PROMPT_PLACEHOLDER, prompt));
      }
      metrics.promptTokens.observe(ids.length);

      // 6. Every generated token must still fit the context; cutting the prompt would change what was asked.
      int maxTokens = request.getParams().getMaxTokens();
      long requested = (long) ids.length + maxTokens;
      if (requested > contextLength) {
        return fail(key, request, modelName, ErrorCodes.CONTEXT_LENGTH_EXCEEDED, String.format(Locale.ROOT,
            "This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the prompt,"
                + " %d for the completion). Please reduce your prompt or completion length.",
            contextLength, requested, ids.length, maxTokens));
      }

      // 7. Ready for a worker of that model: its own topic, read by its own pool.
      Routed tokenized = Routed.to(model.topic(), key, TokenizedRequest.newBuilder()
          .setRequest(request)
          .setModel(modelName)
          .setPromptTokenIds(Arrays.stream(ids).boxed().collect(Collectors.toList()))
          .setTokenizedAt(now.toEpochMilli())
          .build());
      metrics.tokenized.inc();
      return List.of(tokenized);
    }

    /** The caller's error for a dead-lettered record; the unreadable one gets a stand-in request. */
    @Override
    public List<Routed> reject(String requestId, GenerationRequest request, String code, String message,
        Instant now) {
      String model = request != null && request.getModel() != null ? request.getModel() : defaultModel;
      return List.of(fail(requestId, Events.callerError(requestId, request, now, model, code, message, producer)));
    }

    private List<Routed> fail(String key, GenerationRequest request, String model, String code, String message) {
      return List.of(fail(key, Events.failed(request, model, List.of(), code, message, producer)));
    }

    private Routed fail(String key, GeneratedSequence error) {
      Routed failed = Routed.to(topics.generated(), key, error);
      metrics.errors.labelValues(error.getError().getCode()).inc();
      return failed;
    }
  }
}
