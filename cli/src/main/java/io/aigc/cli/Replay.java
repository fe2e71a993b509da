package io.aigc.cli;

import io.aigc.gateway.ApiShapes;
import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.UnreadableRecordException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * {@code aigc replay}: past requests published again as new jobs, for an audit of a model change. Every job stays on
 * the requests topic, and its completion on the completions topic, so the past is read back from Kafka:
 *
 * <ol>
 *   <li>The requests written in [from, to) (by record timestamp, through {@code offsetsForTimes}), once each;
 *       replays themselves are left out (they carry {@value #REPLAY_OF}), and so are requests of other tasks when a
 *       task is asked for.
 *   <li>Each is published again under a new id, created now, with {@value #REPLAY_OF} = its old id in its metadata,
 *       and with another model if one is asked for. A deadline keeps its length.
 *   <li>The old completions are read from the completions topic from {@code from} on, the new ones as they come.
 * </ol>
 */
final class Replay {
  /** The metadata key a replayed job names its original in. */
  static final String REPLAY_OF = "replay_of";
  /** The metadata key {@code --task} also matches, for requests published without a named task of their own. */
  static final String TASK = "task";

  record Options(Instant from, Instant to, String model, String task, int maxOutstanding) {}

  /** A past request and its replay: {@code before} and {@code after} are null while not (yet) read. */
  record Pair(GenerationRequest old, String newId, Completion before, Completion after) {}

  /**
   * @param skippedReplays requests in the window that were replays themselves
   * @param unreadable records in the window that are not requests this version can read
   * @param finished false when stopped before every replay completed
   */
  record Result(List<Pair> pairs, int skippedReplays, int unreadable, boolean finished) {}

  private Replay() {}

  static Result run(CliConfig config, Options options, Progress.Factory progressFactory, BooleanSupplier stop) {
    Map<String, GenerationRequest> old = new LinkedHashMap<>();
    int skippedReplays = 0;
    int unreadable = 0;
    AvroSerde<GenerationRequest> serde = config.topics().requests().valueSerde();
    try (TopicScan requests = TopicScan.open(config, config.topics().requests().name(), options.from(),
        options.to())) {
      List<ConsumerRecord<String, byte[]>> window = requests.readToBound();
      window.sort((a, b) -> Long.compare(a.timestamp(), b.timestamp()));
      for (ConsumerRecord<String, byte[]> record : window) {
        if (record.timestamp() < options.from().toEpochMilli() || record.timestamp() >= options.to().toEpochMilli()) {
          continue;
        }
        GenerationRequest request;
        try {
          request = serde.decode(record.value());
        } catch (UnreadableRecordException e) {
          unreadable++;
          continue;
        }
        if (request.getMetadata().containsKey(REPLAY_OF)) {
          skippedReplays++;
        } else if (options.task() == null || options.task().equals(request.getTask())
            || request.getTask() == null && options.task().equals(request.getMetadata().get(TASK))) {
          old.putIfAbsent(request.getRequestId(), request);
        }
      }
    }

    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Map<String, String> newIds = new LinkedHashMap<>();
    List<JobRunner.Job> jobs = new ArrayList<>();
    for (GenerationRequest request : old.values()) {
      String id = ApiShapes.newId(request.getMessages() != null);
      newIds.put(request.getRequestId(), id);
      jobs.add(new JobRunner.Job(id, again(request, id, now, options.model())));
    }
    Map<String, Completion> completions = new HashMap<>();
    boolean finished = true;
    if (!jobs.isEmpty()) {
      Progress progress = progressFactory.create(jobs.size(), 0, 0);
      try (JobRunner runner = new JobRunner(config, options.from().minus(Batch.CLOCK_MARGIN))) {
        finished = runner.run(jobs, Set.of(), options.maxOutstanding(), completion -> {
          completions.put(completion.getRequestId(), completion);
          progress.completed(completion.getStatus() == CompletionStatus.OK);
        }, completion -> {
          if (old.containsKey(completion.getRequestId())) {
            completions.putIfAbsent(completion.getRequestId(), completion);
          }
        }, () -> {
          progress.tick();
          return stop.getAsBoolean();
        });
      }
      progress.finish();
    }
    List<Pair> pairs = new ArrayList<>();
    old.forEach((id, request) -> pairs.add(new Pair(request, newIds.get(id), completions.get(id),
        completions.get(newIds.get(id)))));
    return new Result(pairs, skippedReplays, unreadable, finished);
  }

  /** {@code old} as a new job {@code id}, created {@code now}, on {@code model} if not null. */
  static GenerationRequest again(GenerationRequest old, String id, Instant now, String model) {
    Map<String, String> metadata = new HashMap<>(old.getMetadata());
    metadata.put(REPLAY_OF, old.getRequestId());
    return GenerationRequest.newBuilder(old)
        .setRequestId(id)
        .setCreatedAt(now.toEpochMilli())
        .setDeadline(old.getDeadline() == null ? null
            : now.toEpochMilli() + Math.max(1, old.getDeadline() - old.getCreatedAt()))
        .setModel(model != null ? model : old.getModel())
        .setMetadata(metadata)
        // The stream partition was the original caller's gateway's; nobody listens for this job's text.
        .setStreamPartition(null)
        .build();
  }
}
