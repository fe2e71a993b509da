package io.aigc.cli;

import io.aigc.gateway.ApiShapes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * {@code aigc batch}: every line of an input file as a job, every answer as a line of the output, resumable.
 *
 * <ol>
 *   <li>Read and check the whole input first ({@link BatchInput}); a malformed file publishes nothing.
 *   <li>A first run writes the state file ({@link BatchState}); a rerun finds it, checks it is the same input, and
 *       reads back what the first run did: the output's lines are the custom_ids done, and the requests topic since
 *       the first run started tells which of the others were published already (a job id is a hash of the input and
 *       the custom_id, so it is recognised). Those are awaited, not published again.
 *   <li>Lines the API refuses are answered at once, with its error, and never published.
 *   <li>The rest are published, never more than {@code maxOutstanding} unfinished, and each completion read from the
 *       completions topic becomes its line's answer.
 * </ol>
 */
final class Batch {
  /**
   * How far before a run's start its completions are looked for: a completion's timestamp is the postprocessor's
   * clock, which may be behind this machine's.
   */
  static final Duration CLOCK_MARGIN = Duration.ofMinutes(5);

  record Options(Path input, Path output, int maxOutstanding) {}

  /** What a run left: lines answered in all (earlier runs included), of them failed, and whether it was stopped. */
  record Result(int total, int succeeded, int failed, boolean finished, int publishedNow) {}

  private Batch() {}

  static Result run(CliConfig config, Options options, Progress.Factory progressFactory, BooleanSupplier stop)
      throws IOException {
    BatchInput input = BatchInput.parse(Files.readAllBytes(options.input()), config.tasks());
    Path statePath = BatchState.beside(options.output());
    BatchState state = BatchState.read(statePath).orElse(null);
    boolean resumed = state != null;
    if (resumed && !state.inputSha256().equals(input.sha256())) {
      throw new CliException(options.output() + " is the output of another input (" + statePath + " says so): "
          + "choose another -o, or remove both to start over");
    }
    if (!resumed && Files.exists(options.output()) && Files.size(options.output()) > 0) {
      throw new CliException(options.output() + " exists and is not from an interrupted run (no " + statePath
          + "): choose another -o, or remove it");
    }
    if (!resumed) {
      state = new BatchState(input.sha256(), Instant.now().truncatedTo(ChronoUnit.MILLIS));
      state.write(statePath);
    }

    try (BatchOutput output = BatchOutput.open(options.output())) {
      Map<String, Boolean> done = output.done();
      int succeededBefore = (int) done.values().stream().filter(ok -> ok).count();
      Progress progress = progressFactory.create(input.lines().size(), succeededBefore,
          done.size() - succeededBefore);
      List<BatchInput.Line> open = new ArrayList<>();
      for (BatchInput.Line line : input.lines()) {
        if (done.containsKey(line.customId())) {
          continue;
        }
        if (line.read().refused() != null) {
          output.write(line, null, line.read().refused());
          progress.completed(false);
        } else {
          open.add(line);
        }
      }
      if (open.isEmpty()) {
        progress.finish();
        return new Result(input.lines().size(), progress.succeeded(), progress.failed(), true, 0);
      }

      Map<String, BatchInput.Line> byId = open.stream()
          .collect(Collectors.toMap(BatchInput.Line::jobId, Function.identity()));
      Instant since = state.startedAt().minus(CLOCK_MARGIN);
      Set<String> published = resumed ? publishedSince(config, since, byId.keySet()) : Set.of();
      List<JobRunner.Job> jobs = new ArrayList<>();
      for (BatchInput.Line line : open) {
        if (!published.contains(line.jobId())) {
          jobs.add(new JobRunner.Job(line.jobId(), line.read().spec().toEvent(line.jobId(),
              Instant.now().truncatedTo(ChronoUnit.MILLIS), line.read().model())));
        }
      }
      boolean finished;
      try (JobRunner runner = new JobRunner(config, since)) {
        finished = runner.run(jobs, published, options.maxOutstanding(), completion -> {
          BatchInput.Line line = byId.get(completion.getRequestId());
          ApiShapes.Answer answer = ApiShapes.answer(line.read().chat(), line.jobId(), completion,
              servedModel(line));
          output.write(line, line.jobId(), answer);
          progress.completed(answer.ok());
        }, other -> { }, () -> {
          progress.tick();
          return stop.getAsBoolean();
        });
      }
      progress.finish();
      return new Result(input.lines().size(), progress.succeeded(), progress.failed(), finished, jobs.size());
    }
  }

  /** The model an answer names when its completion does not: the one the line asked for, if any. */
  private static String servedModel(BatchInput.Line line) {
    return line.read().model() != null ? line.read().model() : "unknown";
  }

  /** Which of {@code ids} were published to the requests topic since {@code since}. */
  static Set<String> publishedSince(CliConfig config, Instant since, Set<String> ids) {
    Set<String> published = new HashSet<>();
    try (TopicScan requests = TopicScan.open(config, config.topics().requests().name(), since, null)) {
      for (ConsumerRecord<String, byte[]> record : requests.readToBound()) {
        if (record.key() != null && ids.contains(record.key())) {
          published.add(record.key());
        }
      }
    }
    return published;
  }
}
