package io.aigc.postprocessor;

import io.aigc.text.ModelTokenizers;
import io.aigc.text.TextStream;
import io.aigc.text.TextTokenizer;
import io.aigc.text.TokenTexts;
import io.aigc.runtime.streams.GuardedProcessor;
import io.aigc.runtime.streams.RecordHandler;
import io.aigc.runtime.streams.RejectedRecordException;
import io.aigc.runtime.streams.Routed;
import io.aigc.runtime.streams.StreamsService;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.DeadLetterReason;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.Events;
import io.aigc.schemas.GeneratedChoice;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationError;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.TextLogprob;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.TokenLogprobs;
import io.aigc.schemas.Topics;
import io.aigc.schemas.Usage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * generated → completions: the one {@link Completion} of each request, its text detokenized and cut at the stop
 * strings, or the error some stage reported. The postprocessor is the only writer of completions, so this is the
 * one place that guarantees exactly one per request id.
 */
public final class CompletionTopology {
  /** Request ids already answered, with when (wall-clock epoch ms). */
  static final String COMPLETED_STORE = "completed-requests";

  /** The service's name in logs, metrics and the dead letters it writes. */
  static final String NAME = "postprocessor";

  private CompletionTopology() {}

  /** The service: this topology over every model's tokenizer, run by a {@link StreamsService} exactly once. */
  public static StreamsService service(PostprocessorConfig config) {
    return StreamsService.overModels(NAME, config.common(), config.streams(), config.modelDirs(),
        (tokenizers, registry) -> build(config, tokenizers.all(), new PostprocessorMetrics(registry)));
  }

  /** The topology for {@code models}, the first of which is the default. */
  static Topology build(PostprocessorConfig config, List<ModelTokenizers.Served> models,
      PostprocessorMetrics metrics) {
    Topics topics = config.common().topics();
    StreamsBuilder builder = new StreamsBuilder();

    // The ids already answered. Persistent and backed by a changelog topic (the default), written in the same
    // transaction as the completion: after a crash or a move to another instance it is restored as it was
    // committed, so a worker's duplicate still finds its id there.
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(COMPLETED_STORE), Serdes.String(), Serdes.Long()));

    builder
        // Bytes, not GeneratedSequences: a record that does not decode must become a dead letter (and an error
        // completion) within this record's transaction, not a deserialization error that skips or stops it.
        .stream(topics.generated().name(), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("generated"))
        // Deduplicate and build the completion in one processor (Complete, below): a dead letter needs the source
        // partition and offset (Processor API), and the dedup check, the completion and the store update must
        // see each record exactly once, in order. Every id is on one partition, keyed by request id, so one task
        // sees all of an id's records.
        .process(GuardedProcessor.supplier(NAME, topics.generated(), topics.dlq(),
            metrics.deadLetters, () -> new Complete(config, models, metrics)),
            Named.as("complete"), COMPLETED_STORE)
        // Completions to the completions topic, dead letters to the dead-letter topic.
        .to(Routed.TOPIC, Routed.produced());
    return builder.build();
  }

  /** One generated sequence's way to its completion, step by step. */
  static final class Complete implements RecordHandler<GeneratedSequence> {
    private static final Logger log = LoggerFactory.getLogger(Complete.class);

    private final Topics topics;
    private final String servedModel;
    private final Map<String, ModelTokenizers.Served> models = new HashMap<>();
    private final PostprocessorMetrics metrics;
    private final Duration retention;
    private final Duration purgeInterval;
    private KeyValueStore<String, Long> completed;

    Complete(PostprocessorConfig config, List<ModelTokenizers.Served> models, PostprocessorMetrics metrics) {
      this.topics = config.common().topics();
      this.servedModel = models.get(0).name();
      models.forEach(m -> this.models.put(m.name(), m));
      this.metrics = metrics;
      this.retention = config.dedupRetention();
      this.purgeInterval = config.dedupPurgeInterval();
    }

    @Override
    public void init(ProcessingContext context) {
      completed = context.getStateStore(COMPLETED_STORE);
      // Wall-clock time, not stream time: ids must be forgotten even when no new records arrive.
      context.schedule(purgeInterval, PunctuationType.WALL_CLOCK_TIME, this::purge);
    }

    @Override
    public String requestId(GeneratedSequence sequence) {
      return sequence.getRequest().getRequestId();
    }

    @Override
    public List<Routed> handle(String key, GeneratedSequence sequence, Instant now) {
      // 1. Without a key the record may sit on any partition, where this task's dedup store cannot vouch for it.
      if (key.isEmpty()) {
        throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, ErrorCodes.POISON_RECORD,
            "generated sequence has no key; every record must be keyed by its request id");
      }

      // 2. Any producer can write to this topic: values no worker writes are that producer's bug, kept as a dead
      //    letter, and the caller still gets an error. (Checked before the dedup, so a broken record is always kept.)
      String problem = problemWith(sequence);
      if (problem != null) {
        throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, ErrorCodes.POISON_RECORD, problem);
      }

      // 3. Exactly one completion per request id: the first record wins, whether a result or an error, and a
      //    worker's duplicate after a crash is dropped.
      if (completed.get(key) != null) {
        metrics.duplicates.inc();
        log.debug("dropping a duplicate of request {}", key);
        return List.of();
      }

      // 4. An error from an earlier stage is passed on as it is; 5. a result becomes text.
      Completion completion = sequence.getStatus() == CompletionStatus.ERROR
          ? Events.failedCompletion(key, sequence.getRequest(), now, modelOf(sequence), errorOf(sequence),
              sequence.getTimings(), now)
          : succeeded(key, sequence, now);

      // 6. Remembered only once the completion is built and encoded: a failure before this point leaves the id
      //    free for the error completion that the dead letter brings.
      return List.of(remember(key, completion, now, true));
    }

    /** What makes a generated sequence impossible to turn into a completion, or null. */
    private String problemWith(GeneratedSequence sequence) {
      if (sequence.getStatus() == CompletionStatus.ERROR) {
        return sequence.getError() == null ? "status ERROR without an error" : null;
      }
      ModelTokenizers.Served model = models.get(modelOf(sequence));
      if (model == null) {
        // Token ids mean something only to their model's tokenizer; a worker serves only a model that is served.
        return "the model '" + modelOf(sequence) + "' is not served here (" + String.join(", ", models.keySet())
            + "), so its token ids cannot be read";
      }
      int vocabSize = model.model().vocabSize().orElse(Integer.MAX_VALUE);
      int n = sequence.getRequest().getParams().getN();
      if (sequence.getChoices().size() != n) {
        return "expected " + n + " choices, got " + sequence.getChoices().size();
      }
      Set<Integer> indexes = new HashSet<>();
      List<Integer> ids = new ArrayList<>(sequence.getPromptTokenIds());
      for (GeneratedChoice choice : sequence.getChoices()) {
        if (choice.getIndex() < 0 || choice.getIndex() >= n || !indexes.add(choice.getIndex())) {
          return "choice index " + choice.getIndex() + " is out of range or repeated";
        }
        if (!choice.getFinishReason().equals("stop") && !choice.getFinishReason().equals("length")) {
          return "finish_reason must be stop or length, got '" + choice.getFinishReason() + "'";
        }
        ids.addAll(choice.getTokenIds());
        if (choice.getLogprobs() != null) {
          if (choice.getLogprobs().size() != choice.getTokenIds().size()) {
            return "choice " + choice.getIndex() + " has " + choice.getTokenIds().size() + " tokens but "
                + choice.getLogprobs().size() + " logprobs";
          }
          for (TokenLogprobs token : choice.getLogprobs()) {
            ids.add(token.getTokenId());
            token.getTop().forEach(alternative -> ids.add(alternative.getTokenId()));
          }
        }
      }
      for (int id : ids) {
        if (id < 0 || id >= vocabSize) {
          return "token id " + id + " is outside the vocabulary [0, " + vocabSize + ")";
        }
      }
      return null;
    }

    /** The caller's error for a dead-lettered record, unless the caller already has its completion. */
    @Override
    public List<Routed> reject(String requestId, GeneratedSequence sequence, String code, String message,
        Instant now) {
      if (completed.get(requestId) != null) {
        return List.of();
      }
      GenerationRequest request = sequence == null ? null : sequence.getRequest();
      String model = sequence == null ? servedModel : modelOf(sequence);
      return List.of(remember(requestId, Events.failedCompletion(requestId, request, now, model,
          new GenerationError(code, message), sequence == null ? null : sequence.getTimings(), now), now,
          request != null));
    }

    private Completion succeeded(String key, GeneratedSequence sequence, Instant now) {
      GenerationRequest request = sequence.getRequest();
      // The model that generated the ids detokenizes them (problemWith has checked it is served).
      TextTokenizer tokenizer = models.get(modelOf(sequence)).tokenizer();
      int[] prompt = toArray(sequence.getPromptTokenIds());
      List<String> stops = request.getParams().getStop();
      List<GeneratedChoice> generated = new ArrayList<>(sequence.getChoices());
      generated.sort(Comparator.comparingInt(GeneratedChoice::getIndex));

      List<CompletionChoice> choices = new ArrayList<>(generated.size());
      int completionTokens = 0;
      for (GeneratedChoice choice : generated) {
        // Detokenized as a continuation of the prompt: decoding the ids alone would drop a leading space.
        String text = tokenizer.continuation(prompt, toArray(choice.getTokenIds()));
        String finishReason = choice.getFinishReason();
        // The stop string found first in the text ends it, whichever place it has in the list; it is not part
        // of the text. Nothing else is trimmed: the text is what the model generated. The same rule cuts a
        // streamed text (TextStream), so the stream's pieces and this text agree.
        int cut = TextStream.earliestStop(text, stops);
        if (cut >= 0) {
          text = text.substring(0, cut);
          finishReason = "stop";
        }
        choices.add(new CompletionChoice(choice.getIndex(), text, finishReason, logprobs(tokenizer, prompt, choice)));
        completionTokens += choice.getTokenIds().size();
      }
      int promptTokens = prompt.length;
      return Completion.newBuilder()
          .setRequestId(key)
          .setStatus(CompletionStatus.OK)
          .setError(null)
          .setModel(modelOf(sequence))
          .setCreatedAt(request.getCreatedAt())
          .setCompletedAt(now.toEpochMilli())
          .setChoices(choices)
          .setUsage(new Usage(promptTokens, completionTokens, promptTokens + completionTokens))
          .setTimings(sequence.getTimings())
          .setMetadata(request.getMetadata())
          .setTask(request.getTask())
          .setChat(request.getMessages() != null)
          .build();
    }

    /** Each token's log-probabilities with the text it adds where it stands; null when not asked for. */
    private static List<TextLogprobs> logprobs(TextTokenizer tokenizer, int[] prompt, GeneratedChoice choice) {
      if (choice.getLogprobs() == null) {
        return null;
      }
      TokenTexts texts = new TokenTexts(tokenizer, prompt);
      List<TextLogprobs> out = new ArrayList<>(choice.getLogprobs().size());
      for (TokenLogprobs token : choice.getLogprobs()) {
        // The alternatives first: they are about the place before this token.
        List<TextLogprob> top = token.getTop().stream()
            .map(a -> new TextLogprob(texts.at(a.getTokenId()), a.getLogprob())).toList();
        out.add(new TextLogprobs(texts.next(token.getTokenId()), token.getLogprob(), top));
      }
      return out;
    }

    /** Encodes the completion and marks its id answered; {@code timed} when the request's creation is known. */
    private Routed remember(String requestId, Completion completion, Instant now, boolean timed) {
      Routed out = Routed.to(topics.completions(), requestId, completion);
      completed.put(requestId, now.toEpochMilli());
      metrics.completions.labelValues(completion.getStatus().name()).inc();
      if (timed) {
        long latencyMs = completion.getCompletedAt() - completion.getCreatedAt();
        metrics.latency.labelValues(completion.getModel() == null ? "" : completion.getModel()).observe(Math.max(0, latencyMs) / 1000.0);
      }
      return out;
    }

    /** Forgets the ids answered longer ago than the retention. */
    private void purge(long nowMs) {
      long cutoff = nowMs - retention.toMillis();
      // Collected first, deleted after: the store is not changed under an open iterator.
      List<String> expired = new ArrayList<>();
      try (KeyValueIterator<String, Long> all = completed.all()) {
        while (all.hasNext()) {
          KeyValue<String, Long> entry = all.next();
          if (entry.value < cutoff) {
            expired.add(entry.key);
          }
        }
      }
      expired.forEach(completed::delete);
      if (!expired.isEmpty()) {
        log.debug("forgot {} request ids completed before {}", expired.size(), Instant.ofEpochMilli(cutoff));
      }
    }

    private String modelOf(GeneratedSequence sequence) {
      return sequence.getModel() != null ? sequence.getModel() : servedModel;
    }

    private static GenerationError errorOf(GeneratedSequence sequence) {
      return sequence.getError() != null ? sequence.getError()
          : new GenerationError(ErrorCodes.INTERNAL_ERROR, "generation failed without saying why");
    }

    private static int[] toArray(List<Integer> ids) {
      return ids.stream().mapToInt(Integer::intValue).toArray();
    }
  }
}
