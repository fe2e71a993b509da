package io.aigc.gateway;

import io.aigc.schemas.RequestSpec;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the batches of {@code /v1/batches}: each line of a batch becomes an ordinary job on the requests topic, with
 * an id derived from the batch and the line's {@code custom_id}, submitted at the pace the pipeline allows, and its
 * completion becomes a line of the batch's output or error file.
 *
 * <p><b>Pacing.</b> Lines are submitted only while the pipeline's backlog ({@link Backlog}) is under
 * {@code AIGC_BATCH_BACKLOG_SHARE} of {@code AIGC_MAX_BACKLOG}, counting what the batches submitted since the last
 * reading, and while the batches hold fewer than {@code AIGC_BATCH_MAX_IN_FLIGHT} unfinished jobs. Interactive
 * callers keep the rest of both bounds: a batch never fills the queue they wait in, and never meets the 429s meant
 * for them (a line that finds no slot waits for the next tick).
 *
 * <p><b>State.</b> Each batch is {@code batches/<id>.json} in the data folder, replaced atomically on every change
 * of status and as lines are handed to Kafka ({@code submitted}: every line before it is on the requests topic), and
 * its finished lines are appended to {@code batches/<id>.results.jsonl}. A restarted gateway reads both: finished
 * lines stay finished, lines submitted before the restart are adopted (their jobs registered without publishing
 * them again, so their completions, read back from the completions topic or still to come, land here), and the rest
 * are submitted.
 *
 * <p>Threads: everything here runs on one Vert.x worker context (blocking file writes are fine there, and no lock is
 * needed); HTTP handlers reach it through {@link #call}.
 */
final class Batches implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Batches.class);
  static final String COMPLETION_WINDOW = "24h";
  private static final long TICK_MS = 50;
  private static final long EXPIRY_CHECK_MS = 60_000;

  /** An endpoint a batch may name: how its lines' bodies are read and its answers shaped. */
  record Endpoint(GenerationCall.Reader reader, ResponseFormat format) {}

  /**
   * How a batch's lines become jobs: submitted, watched and cancelled as interactive ones are, paced by the backlog
   * (none: paced by {@code AIGC_BATCH_MAX_IN_FLIGHT} alone).
   */
  record Jobs(JobSubmitter submitter, JobStore store, JobCanceller canceller, Backlog backlog, long maxBacklog) {}

  private final Vertx vertx;
  private final BatchConfig config;
  private final BatchFiles files;
  private final Jobs jobs;
  private final Map<String, Endpoint> endpoints;
  private final String model;
  private final Clock clock;
  private final Path dir;
  /** Every batch, oldest first; only the worker context touches it after start. */
  private final Map<String, Batch> batches = new LinkedHashMap<>();
  private final Map<String, Run> runs = new LinkedHashMap<>();
  private Context context;
  private String deployment;
  private boolean ticking;
  /**
   * When each line submitted lately reached Kafka ({@link System#nanoTime}): a backlog reading may not count it.
   */
  private final Deque<Long> unmeasured = new ArrayDeque<>();
  /** Lines handed to Kafka and not acknowledged yet: no reading counts them. */
  private int publishing;

  /** A batch being worked on. */
  private static final class Run {
    Batch batch;
    List<Item> items;
    final Set<String> finished = new HashSet<>();
    final Map<String, Integer> inFlight = new HashMap<>();
    final TreeSet<Integer> unacked = new TreeSet<>();
    final Deque<Integer> retry = new ArrayDeque<>();
    final Deque<Integer> adopt = new ArrayDeque<>();
    int next;
    int completed;
    int failed;
    boolean dirty;

    Run(Batch batch) {
      this.batch = batch;
    }

    /** Every line before it is on the requests topic. */
    int submitted() {
      int lowest = next;
      if (!unacked.isEmpty()) {
        lowest = Math.min(lowest, unacked.first());
      }
      for (int i : retry) {
        lowest = Math.min(lowest, i);
      }
      return lowest;
    }
  }

  /** A line that is a valid request. */
  private record Item(int index, String customId, String jobId, RequestSpec spec) {}

  Batches(Vertx vertx, BatchConfig config, BatchFiles files, Jobs jobs, Map<String, Endpoint> endpoints, String model,
      Clock clock) throws IOException {
    this.vertx = vertx;
    this.config = config;
    this.files = files;
    this.jobs = jobs;
    this.endpoints = Map.copyOf(endpoints);
    this.model = model;
    this.clock = clock;
    this.dir = Files.createDirectories(config.dataDir().resolve("batches"));
    load();
  }

  Set<String> endpointNames() {
    return endpoints.keySet();
  }

  /**
   * Ticks every {@value #TICK_MS} ms while a batch is unfinished, and not at all otherwise: an idle gateway pays
   * nothing for the Batch API (a worker thread woken 20 times a second costs others on a busy machine).
   */
  private void wake() {
    if (!ticking && !runs.isEmpty()) {
      ticking = true;
      vertx.setTimer(TICK_MS, t -> {
        ticking = false;
        tick();
        wake();
      });
    }
  }

  /** Starts the work on a worker context of its own. */
  Future<String> start() {
    return vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        Batches.this.context = context;
        wake();
        // Output files made with an expiry (output_expires_after) are deleted within a minute of it; the verticle's
        // undeployment cancels the timer.
        vertx.setPeriodic(EXPIRY_CHECK_MS, t -> deleteExpiredFiles());
        return Future.succeededFuture();
      }
    }, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).onSuccess(id -> deployment = id);
  }

  private void deleteExpiredFiles() {
    try {
      files.deleteExpired();
    } catch (IOException e) {
      log.warn("deleting expired files failed; trying again in a minute: {}", e.toString());
    }
  }

  /** Runs {@code work} on the batches' context; the answer comes back on the caller's context. */
  <T> Future<T> call(Callable<T> work) {
    Context caller = vertx.getOrCreateContext();
    Promise<T> answer = Promise.promise();
    context.runOnContext(v -> {
      try {
        T result = work.call();
        caller.runOnContext(x -> answer.complete(result));
      } catch (Throwable e) {
        caller.runOnContext(x -> answer.fail(e));
      }
    });
    return answer.future();
  }

  // ---- what the HTTP handlers ask (on the batches' context, through call) ----

  /** @param outputExpiresAfter seconds the batch's output and error files live once made; null: until deleted */
  Batch create(String owner, String inputFileId, String endpoint, Map<String, String> metadata,
      Long outputExpiresAfter) throws IOException {
    BatchFiles.StoredFile input = files.find(inputFileId, owner)
        .orElseThrow(() -> ApiError.notFound("file", inputFileId));
    if (!BatchFiles.PURPOSE_BATCH.equals(input.purpose())) {
      throw ApiError.invalid("input_file_id", "invalid_value", "The input file must have been uploaded with purpose "
          + "'batch', not '" + input.purpose() + "'.");
    }
    long now = clock.millis() / 1000;
    Batch batch = Batch.created(JobIds.random("batch_"), owner, endpoint, inputFileId, COMPLETION_WINDOW, now,
        now + config.completionWindow().toSeconds(), metadata, outputExpiresAfter);
    save(batch);
    batches.put(batch.id(), batch);
    runs.put(batch.id(), new Run(batch));
    wake();
    log.info("batch {} created from {} for {}", batch.id(), inputFileId, endpoint);
    return batch;
  }

  Optional<Batch> find(String id, String caller) {
    return Optional.ofNullable(batches.get(id)).filter(b -> Objects.equals(b.owner(), caller));
  }

  /** {@code caller}'s batches, newest first. */
  List<Batch> list(String caller) {
    List<Batch> mine = new ArrayList<>();
    for (Batch b : batches.values()) {
      if (Objects.equals(b.owner(), caller)) {
        mine.add(0, b);
      }
    }
    return mine;
  }

  /** A batch still to finish reads this file (again, if the gateway restarts): it cannot be deleted yet. */
  boolean inUse(String fileId) {
    return runs.values().stream().anyMatch(r -> r.batch.inputFileId().equals(fileId));
  }

  Batch cancel(String id, String caller) throws IOException {
    Batch batch = find(id, caller).orElseThrow(() -> ApiError.notFound("batch", id));
    Run run = runs.get(id);
    if (batch.status() == Batch.Status.CANCELLING || batch.status() == Batch.Status.CANCELLED) {
      return batch;
    }
    if (run == null || batch.status().finished() || batch.status() == Batch.Status.FINALIZING) {
      throw ApiError.conflict("batch_finished", "Batch '" + id + "' is " + batch.status().wire()
          + "; there is nothing to cancel.");
    }
    update(run, batch.moveTo(Batch.Status.CANCELLING, clock.millis() / 1000));
    run.inFlight.keySet().forEach(jobId -> cancelJob(jobId, caller));
    log.info("batch {} cancelling, {} jobs in flight", id, run.inFlight.size());
    return run.batch;
  }

  // ---- the work ----

  private void tick() {
    int inFlight = runs.values().stream().mapToInt(r -> r.inFlight.size()).sum();
    int room = config.maxInFlight() - inFlight;
    Backlog backlog = jobs.backlog();
    if (backlog != null) {
      long share = (long) Math.floor(jobs.maxBacklog() * config.backlogShare());
      long measuredAt = backlog.measuredAtNanos();
      Backlog.State reading = backlog.state();
      while (measuredAt != Long.MIN_VALUE && !unmeasured.isEmpty() && unmeasured.peekFirst() - measuredAt < 0) {
        unmeasured.pollFirst();
      }
      // The backlog as last measured, plus what the batches added since; unknown (not measured yet, or the check
      // fails), the batches' own unfinished jobs are all they may add to it, so those stay within the share.
      long waiting = reading.backlog() >= 0 ? reading.backlog() + unmeasured.size() + publishing : inFlight;
      room = (int) Math.max(0, Math.min(room, share - waiting));
    }
    long now = clock.millis() / 1000;
    for (Run run : List.copyOf(runs.values())) {
      try {
        room -= step(run, now, Math.max(0, room));
        if (run.dirty && runs.containsKey(run.batch.id())) {
          update(run, run.batch.withCounts(run.completed, run.failed, run.submitted()));
        }
      } catch (IOException | RuntimeException e) {
        log.error("batch {}: {}", run.batch.id(), e.toString(), e);
      }
    }
  }

  /** Moves {@code run} on; returns how many lines it submitted. */
  private int step(Run run, long now, int room) throws IOException {
    Batch.Status status = run.batch.status();
    if (run.items == null && !prepare(run)) {
      return 0;
    }
    if (status == Batch.Status.VALIDATING) {
      update(run, run.batch.moveTo(Batch.Status.IN_PROGRESS, now));
      status = Batch.Status.IN_PROGRESS;
    }
    if (status == Batch.Status.FINALIZING) {
      finish(run, Batch.Status.COMPLETED, now);
      return 0;
    }
    if (now >= run.batch.expiresAt()) {
      run.inFlight.keySet().forEach(jobId -> cancelJob(jobId, run.batch.owner()));
      finish(run, status == Batch.Status.CANCELLING ? Batch.Status.CANCELLED : Batch.Status.EXPIRED, now);
      return 0;
    }
    if (status == Batch.Status.CANCELLING) {
      if (run.inFlight.isEmpty()) {
        finish(run, Batch.Status.CANCELLED, now);
      }
      return 0;
    }
    int taken = feed(run, room);
    if (run.finished.size() == run.batch.total()) {
      update(run, run.batch.withCounts(run.completed, run.failed, run.submitted())
          .moveTo(Batch.Status.FINALIZING, now));
      finish(run, Batch.Status.COMPLETED, now);
    }
    return taken;
  }

  /**
   * Reads the input file and judges each line's body as its endpoint would; a bad body is that line's result (a
   * 400 in the error file). False when the file cannot run: the batch has failed.
   */
  private boolean prepare(Run run) throws IOException {
    Batch batch = run.batch;
    long now = clock.millis() / 1000;
    Endpoint endpoint = endpoints.get(batch.endpoint());
    BatchInput.Parsed parsed;
    Path input = files.content(batch.inputFileId());
    if (!Files.exists(input)) {
      parsed = new BatchInput.Parsed(List.of(), List.of(new BatchInput.Problem("file_not_found",
          "The input file " + batch.inputFileId() + " no longer exists.", "input_file_id", null)));
    } else {
      parsed = BatchInput.read(input, batch.endpoint());
    }
    if (!parsed.problems().isEmpty()) {
      update(run, batch.withErrors(parsed.problems()).moveTo(Batch.Status.FAILED, now));
      runs.remove(batch.id());
      log.info("batch {} failed validation: {} problems", batch.id(), parsed.problems().size());
      return false;
    }
    List<Item> items = new ArrayList<>();
    for (BatchInput.Line line : parsed.lines()) {
      String jobId = JobIds.fromBatchLine(endpoint.format().idPrefix(), batch.id(), line.customId());
      RequestSpec spec;
      try {
        GenerationCall call = endpoint.reader().read(line.body().getBytes(StandardCharsets.UTF_8));
        if (call.stream()) {
          throw CompletionsBody.unsupported("stream", "A batch request is not streamed: 'stream' must be false.");
        }
        spec = call.spec().ownedBy(batch.owner());
      } catch (ApiError e) {
        if (run.finished.add(line.customId())) {
          record(run, line.index(), line.customId(), jobId, errorLine(line.customId(), jobId, e));
        }
        continue;
      }
      items.add(new Item(items.size(), line.customId(), jobId, spec));
    }
    run.items = items;
    if (batch.total() == 0) {
      // Known once validated (a batch cancelled while validating has its count too).
      update(run, batch.withTotal(items.size() + run.failed));
    }
    // Resuming: lines before `submitted` are on Kafka already; adopt those without a result, submit the rest.
    int submitted = Math.min(batch.submitted(), items.size());
    for (int i = 0; i < submitted; i++) {
      if (!run.finished.contains(items.get(i).customId())) {
        run.adopt.add(i);
      }
    }
    run.next = submitted;
    return true;
  }

  /** Submits (or adopts) as many lines as {@code room} allows. */
  private int feed(Run run, int room) {
    int taken = 0;
    while (taken < room) {
      boolean adopting = !run.adopt.isEmpty();
      Integer index = adopting ? run.adopt.poll() : !run.retry.isEmpty() ? run.retry.poll()
          : run.next < run.items.size() ? Integer.valueOf(run.next++) : null;
      if (index == null) {
        break;
      }
      Item item = run.items.get(index);
      if (run.finished.contains(item.customId())) {
        continue;
      }
      taken++;
      if (!adopting) {
        publishing++;
      }
      run.inFlight.put(item.jobId(), index);
      run.unacked.add(index);
      (adopting ? jobs.submitter().adopt(item.jobId(), item.spec())
          : jobs.submitter().submitPaced(item.jobId(), item.spec()))
          .onComplete(ar -> {
            if (!adopting) {
              publishing--;
              if (ar.succeeded()) {
                unmeasured.addLast(System.nanoTime());
              }
            }
            run.unacked.remove(index);
            run.dirty = true;
            if (ar.succeeded()) {
              if (run.batch.status() == Batch.Status.CANCELLING) {
                cancelJob(item.jobId(), run.batch.owner());
              }
              jobs.store().onCompletion(item.jobId(), job -> context.runOnContext(v -> completed(run, item, job)));
              return;
            }
            run.inFlight.remove(item.jobId());
            if (ar.cause() instanceof ApiError e && e.status() == 409) {
              run.finished.add(item.customId());
              recordQuietly(run, item, errorLine(item.customId(), item.jobId(), e));
            } else {
              // No slot, or Kafka did not take it: the line waits for the next tick, it never fails for that.
              (adopting ? run.adopt : run.retry).addFirst(index);
            }
          });
    }
    return taken;
  }

  private void completed(Run run, Item item, JobStore.Job job) {
    if (run.inFlight.remove(item.jobId()) == null || !runs.containsKey(run.batch.id())
        || !run.finished.add(item.customId())) {
      return;
    }
    JsonObject line;
    if (job.status() == JobStore.Status.DONE) {
      line = outputLine(item.customId(), item.jobId(), 200,
          endpoints.get(run.batch.endpoint()).format().completion(job.completion(), model), null);
    } else {
      line = errorLine(item.customId(), item.jobId(), ApiError.fromPipeline(item.jobId(), job.completion().getError()));
    }
    recordQuietly(run, item, line);
  }

  private void recordQuietly(Run run, Item item, JsonObject line) {
    try {
      record(run, item.index(), item.customId(), item.jobId(), line);
    } catch (IOException e) {
      // The line stays finished in memory and is written with the output files; only a restart before then loses it.
      log.error("batch {}: cannot record the result of {}: {}", run.batch.id(), item.customId(), e.toString());
    }
  }

  /** Appends a finished line to the batch's results, and counts it. */
  private void record(Run run, int index, String customId, String jobId, JsonObject line) throws IOException {
    boolean ok = line.getJsonObject("response") != null
        && line.getJsonObject("response").getInteger("status_code") == 200;
    if (ok) {
      run.completed++;
    } else {
      run.failed++;
    }
    run.dirty = true;
    String entry = new JsonObject().put("index", index).put("ok", ok).put("line", line).encode() + "\n";
    Files.writeString(results(run.batch.id()), entry, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /** Writes the output and error files (lines never finished become errors) and ends the batch as {@code end}. */
  private void finish(Run run, Batch.Status end, long now) throws IOException {
    String id = run.batch.id();
    StringBuilder output = new StringBuilder();
    StringBuilder errors = new StringBuilder();
    int completed = 0;
    int failed = 0;
    Set<String> seen = new HashSet<>();
    for (JsonObject entry : readResults(id)) {
      JsonObject line = entry.getJsonObject("line");
      if (!seen.add(line.getString("custom_id"))) {
        continue;
      }
      if (entry.getBoolean("ok")) {
        output.append(line.encode()).append('\n');
        completed++;
      } else {
        errors.append(line.encode()).append('\n');
        failed++;
      }
    }
    if (end != Batch.Status.COMPLETED && run.items != null) {
      String code = end == Batch.Status.EXPIRED ? "batch_expired" : "batch_cancelled";
      String message = end == Batch.Status.EXPIRED ? "This request could not be executed before the completion "
          + "window expired." : "This request was not executed because the batch was cancelled.";
      for (Item item : run.items) {
        if (seen.add(item.customId())) {
          errors.append(new JsonObject().put("id", requestLineId(item.jobId())).put("custom_id", item.customId())
              .putNull("response").put("error", new JsonObject().put("code", code).put("message", message))
              .encode()).append('\n');
          failed++;
        }
      }
    }
    String owner = run.batch.owner();
    String outputId = output.isEmpty() ? null
        : files.add(output.toString(), id + "_output.jsonl", BatchFiles.PURPOSE_OUTPUT, owner,
            run.batch.outputExpiresAfter()).id();
    String errorId = errors.isEmpty() ? null
        : files.add(errors.toString(), id + "_error.jsonl", BatchFiles.PURPOSE_OUTPUT, owner,
            run.batch.outputExpiresAfter()).id();
    update(run, run.batch.withFiles(outputId, errorId).withCounts(completed, failed, run.submitted())
        .moveTo(end, now));
    runs.remove(id);
    Files.deleteIfExists(results(id));
    log.info("batch {} {}: {} completed, {} failed", id, end.wire(), completed, failed);
  }

  private void cancelJob(String jobId, String caller) {
    jobs.canceller().cancel(jobId, caller)
        .onFailure(e -> log.warn("could not cancel job {}: {}", jobId, e.toString()));
  }

  static JsonObject outputLine(String customId, String jobId, int status, JsonObject body, JsonObject error) {
    return new JsonObject().put("id", requestLineId(jobId)).put("custom_id", customId)
        .put("response", new JsonObject().put("status_code", status).put("request_id", jobId).put("body", body))
        .put("error", error);
  }

  /** A request that was answered with an error, as OpenAI's error file has it: the HTTP answer it would have got. */
  static JsonObject errorLine(String customId, String jobId, ApiError e) {
    return outputLine(customId, jobId, e.status(), new JsonObject().put("error", JsonViews.errorObject(e)), null);
  }

  private static String requestLineId(String jobId) {
    return "batch_req_" + jobId.substring(jobId.indexOf('-') + 1);
  }

  // ---- the data folder ----

  private void update(Run run, Batch next) throws IOException {
    save(next);
    run.batch = next;
    run.dirty = false;
    batches.put(next.id(), next);
  }

  private void save(Batch batch) throws IOException {
    BatchFiles.writeAtomically(dir.resolve(batch.id() + ".json"), batch.toStored().encode());
  }

  private Path results(String id) {
    return dir.resolve(id + ".results.jsonl");
  }

  /** The results recorded so far; a torn last line (a crash mid-write) is skipped, and its job's answer read again. */
  private List<JsonObject> readResults(String id) throws IOException {
    Path path = results(id);
    List<JsonObject> entries = new ArrayList<>();
    if (!Files.exists(path)) {
      return entries;
    }
    for (String text : Files.readAllLines(path, StandardCharsets.UTF_8)) {
      try {
        entries.add(new JsonObject(text));
      } catch (RuntimeException e) {
        log.warn("batch {}: skipping a torn result line", id);
      }
    }
    entries.sort(Comparator.comparingInt(e -> e.getInteger("index")));
    return entries;
  }

  private void load() throws IOException {
    List<Batch> found = BatchFiles.readAll(dir, "batch_*.json", Batch::fromStored, "batch state");
    found.sort(Comparator.comparingLong(Batch::createdAt).thenComparing(Batch::id));
    for (Batch batch : found) {
      batches.put(batch.id(), batch);
      if (batch.status().finished()) {
        continue;
      }
      Run run = new Run(batch);
      for (JsonObject entry : readResults(batch.id())) {
        if (run.finished.add(entry.getJsonObject("line").getString("custom_id"))) {
          if (entry.getBoolean("ok")) {
            run.completed++;
          } else {
            run.failed++;
          }
        }
      }
      runs.put(batch.id(), run);
      log.info("resuming batch {} ({}): {} of {} lines finished, {} submitted", batch.id(), batch.status().wire(),
          run.finished.size(), batch.total(), batch.submitted());
    }
  }

  @Override
  public void close() {
    if (deployment != null) {
      // Persists where the batches are, so a restart resumes from here rather than from the last tick's state.
      try {
        call(() -> {
          for (Run run : runs.values()) {
            update(run, run.batch.withCounts(run.completed, run.failed, run.submitted()));
          }
          return null;
        }).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("could not save the batches' state on close: {}", e.toString());
      }
    }
  }
}
