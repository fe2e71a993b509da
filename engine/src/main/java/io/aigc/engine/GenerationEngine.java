package io.aigc.engine;

import io.aigc.engine.Batch.PrefilledRows;
import io.aigc.engine.RunningRequest.Sequence;
import io.aigc.text.TextTokenizer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generates tokens for many requests at once with continuous batching, as vLLM and TGI schedule: the unit of work
 * is one decode step, a waiting request joins the running batch between two steps (right after its prefill), and a
 * sequence leaves the batch the moment it finishes, so nobody waits for the slowest member of a static batch.
 *
 * <p>Per iteration of its single thread:
 * <ol>
 *   <li><b>Cancel</b> the requests cancelled since the last iteration, waiting or running.
 *   <li><b>Admit</b> waiting requests in arrival order while the batch has rows and the KV-cache budget has room for
 *       each one's whole prompt plus max_tokens ({@link Admission}); refuse at once what could never fit.
 *   <li><b>Prefill</b> the admitted prompts, several per ONNX run, left-padded ({@link Admission#prefillRuns}), and
 *       sample each choice's first token.
 *   <li><b>Join</b> the new sequences to the running batch ({@link Batch#join}): a newcomer takes over a finished
 *       sequence's row in place, copying only its own cache, or the batch is rebuilt around it.
 *   <li><b>Retire</b> requests whose deadline passed.
 *   <li><b>Decode</b> one token for every running sequence, one ONNX run per {@link BatchGroup}, each token handed to
 *       its {@link RunningRequest}, which ends the choice at end of sequence, max_tokens, a stop string or the
 *       context length; a request's outcome goes to its listener when its last choice ends.
 *   <li><b>Compact</b>: finished rows are freed, and a batch with too many idle rows or too much padding is rebuilt
 *       ({@link Batch#dropFinishedRows}).
 * </ol>
 *
 * <p>A greedy request therefore yields exactly the tokens it yields alone (masked padding contributes exact zeros),
 * and a seeded request draws from its own random stream, whatever else shares the batch: each choice samples with
 * its request's own {@link Sampler}, its own random stream and its own token history, which its penalties count.
 *
 * <p>On {@link #close()} unfinished requests are dropped without an outcome: the worker has not committed their
 * offsets, so another worker redoes them.
 */
public final class GenerationEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GenerationEngine.class);

  private final DecoderModel model;
  private final ModelSpec spec;
  private final TextTokenizer tokenizer;
  private final EngineSettings settings;
  private final EngineMetrics metrics;
  private final Clock clock;
  private final Admission admission;
  private final Sampler.Scratch samplerScratch = new Sampler.Scratch();
  private final LinkedBlockingDeque<GenerationTask> waiting = new LinkedBlockingDeque<>();
  private final ConcurrentLinkedQueue<Cancellation> cancellations = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean stopping;

  // Engine-thread state.
  private final Batch batch;
  private final List<RunningRequest> running = new ArrayList<>();
  private long reservedBytes;

  // Published for metrics and the worker's back-pressure.
  private volatile Load load = new Load(0, 0, 0);

  public GenerationEngine(OnnxModel model, TextTokenizer tokenizer, EngineSettings settings, EngineMetrics metrics) {
    this(model, tokenizer, settings, metrics, Clock.systemUTC());
  }

  /** Over any model, with the clock deadlines and queue times are read from (tests move it). */
  GenerationEngine(DecoderModel model, TextTokenizer tokenizer, EngineSettings settings, EngineMetrics metrics,
      Clock clock) {
    this.clock = clock;
    this.model = model;
    this.spec = model.spec();
    this.tokenizer = tokenizer;
    this.settings = settings;
    this.metrics = metrics;
    this.admission = new Admission(settings, spec);
    this.batch = new Batch(spec, model.pool(), metrics);
    this.thread = new Thread(null, this::run, "generation-engine", OnnxModel.LARGE_STACK_BYTES);
    this.thread.setDaemon(true);
  }

  public GenerationEngine start() {
    thread.start();
    return this;
  }

  /** Queues a request; its tokens and outcome arrive on its listener. Thread-safe. */
  public void submit(GenerationTask task) {
    waiting.add(task);
  }

  /**
   * Stops a request, waiting or running. With {@code notify} its listener gets a {@link Failure#CANCELLED} outcome;
   * without, it is dropped silently (the worker gave its partition away and another worker will redo it).
   * Thread-safe; unknown ids are ignored.
   */
  public void cancel(String requestId, boolean notify) {
    cancellations.add(new Cancellation(requestId, notify));
  }

  public ModelSpec spec() {
    return spec;
  }

  public int waitingRequests() {
    return waiting.size();
  }

  /**
   * What the batch held after the last step, as one snapshot.
   *
   * @param requests requests being generated
   * @param rows their sequences (a request has one per choice)
   * @param reservedKvBytes cache bytes reserved by those requests (their prompt plus max_tokens, per choice)
   */
  public record Load(int requests, int rows, long reservedKvBytes) {}

  public Load load() {
    return load;
  }

  @Override
  public void close() {
    stopping = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private record Cancellation(String requestId, boolean notifyCaller) {}

  private void run() {
    log.info("generation engine on {}: {} layers, {} KV heads x {}, {} cache, {} position ids, batch <= {} rows, "
            + "KV budget {} MiB", model.device(), spec.layers(), spec.kvHeads(), spec.headDim(), spec.kvPrecision(),
        spec.hasPositionIds() ? "with" : "without (equal-length batching only)", settings.maxBatchRows(),
        settings.kvBudgetBytes() >> 20);
    while (!stopping) {
      try {
        if (batch.isEmpty() && cancellations.isEmpty()) {
          GenerationTask next = waiting.poll(100, TimeUnit.MILLISECONDS);
          if (next == null) {
            continue;
          }
          waiting.addFirst(next);
        }
        applyCancellations();
        admit();
        retireExpired();
        decodeStep();
        updateGauges();
      } catch (InterruptedException e) {
        if (!stopping) {
          log.warn("engine interrupted while running; continuing");
        }
      } catch (RuntimeException | OutOfMemoryError e) {
        // A bug or an exhausted resource in the middle of a step: fail what runs, keep the engine alive.
        log.error("generation step failed; failing the running requests", e);
        for (RunningRequest r : List.copyOf(running)) {
          complete(r, r.fail(Failure.MODEL_FAILED, "generation failed: " + e));
        }
        batch.dropFinishedRows(waiting.isEmpty());
        updateGauges();
      }
    }
    batch.close();
  }

  private void applyCancellations() {
    for (Cancellation c; (c = cancellations.poll()) != null; ) {
      String id = c.requestId();
      boolean notify = c.notifyCaller();
      waiting.removeIf(task -> {
        if (!task.requestId().equals(id)) {
          return false;
        }
        if (notify) {
          deliver(task, GenerationOutcome.failed(id, task.promptLength(), Failure.CANCELLED,
              "the request was cancelled"));
        }
        return true;
      });
      for (RunningRequest r : List.copyOf(running)) {
        if (r.task.requestId().equals(id)) {
          if (notify) {
            complete(r, r.fail(Failure.CANCELLED, "the request was cancelled"));
          } else {
            r.drop();
            release(r);
          }
        }
      }
    }
    batch.dropFinishedRows(waiting.isEmpty());
  }

  private void admit() {
    Admission.Decision decision = admission.next(waiting, batch.runningRows(), reservedBytes, clock.instant());
    for (Admission.Refusal refusal : decision.refused()) {
      deliver(refusal.task(), GenerationOutcome.failed(refusal.task().requestId(), refusal.task().promptLength(),
          refusal.failure(), refusal.message()));
    }
    if (decision.admitted().isEmpty()) {
      return;
    }
    List<PrefilledRows> joins = new ArrayList<>();
    for (List<GenerationTask> run : Admission.prefillRuns(decision.admitted(), spec.hasPositionIds())) {
      joins.addAll(prefill(run));
    }
    batch.join(joins);
    // Each prefill's cache has been copied into the batch by now.
    joins.stream().map(PrefilledRows::prefill).distinct().forEach(KvBlock::close);
  }

  /** Prefills one run of prompts in one ONNX run, left-padded, and samples each choice's first token. */
  private List<PrefilledRows> prefill(List<GenerationTask> tasks) {
    long start = System.nanoTime();
    int rows = tasks.size();
    int seqLen = tasks.stream().mapToInt(GenerationTask::promptLength).max().orElseThrow();
    int[] tokens = new int[rows * seqLen];
    int[] real = new int[rows];
    List<RunningRequest> run = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      GenerationTask task = tasks.get(r);
      int[] prompt = task.prompt();
      System.arraycopy(prompt, 0, tokens, r * seqLen + seqLen - prompt.length, prompt.length); // left-padded
      real[r] = prompt.length;
      long queueMs = Math.max(0, Duration.between(task.createdAt(), clock.instant()).toMillis());
      long reserve = task.reservedTokens() * spec.kvBytesPerToken();
      RunningRequest request = new RunningRequest(task, Sampler.of(task.params(), spec.eosTokenIds(), samplerScratch),
          tokenizer, reserve, queueMs, start);
      running.add(request);
      reservedBytes += reserve;
      run.add(request);
    }
    DecoderModel.Forward forward;
    try (KvBlock empty = KvBlock.empty(spec, model.pool(), rows)) {
      forward = model.forward(tokens, seqLen, empty, real);
    } catch (DecoderModel.ModelException | RuntimeException e) {
      log.warn("prefill of {} prompts failed", rows, e);
      for (RunningRequest request : run) {
        complete(request, request.fail(Failure.MODEL_FAILED, "the model failed on this prompt: " + e.getMessage()));
      }
      return List.of();
    }
    metrics.prefill(Arrays.stream(real).sum(), System.nanoTime() - start);
    long firstToken = System.nanoTime();
    List<PrefilledRows> joins = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      RunningRequest request = run.get(r);
      request.firstTokenAt(firstToken);
      List<Sequence> sequences = new ArrayList<>();
      for (int i = 0; i < request.task.params().n(); i++) {
        Sequence s = request.start(i, random(request.task.params().seed(), i));
        accept(s, s.sample(forward.logits()[r]));
        if (s.running()) {
          sequences.add(s);
        }
      }
      if (!sequences.isEmpty()) {
        joins.add(new PrefilledRows(forward.present(), r, sequences));
      }
    }
    if (joins.isEmpty()) {
      forward.present().close();
    }
    return joins;
  }

  private static SplittableRandom random(Long seed, int choice) {
    long base = seed != null ? seed : ThreadLocalRandom.current().nextLong();
    return new SplittableRandom(base + 0x9E3779B97F4A7C15L * choice);
  }

  private void retireExpired() {
    for (RunningRequest r : List.copyOf(running)) {
      if (r.task.expiredAt(clock.instant())) {
        complete(r, r.fail(Failure.DEADLINE_EXCEEDED, "the request's deadline passed while it was generated"));
      }
    }
    batch.dropFinishedRows(waiting.isEmpty());
  }

  private void decodeStep() {
    if (batch.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    int rows = 0;
    int positions = 0;
    List<BatchGroup> groups = batch.groups();
    for (BatchGroup g : groups) {
      positions = Math.max(positions, g.length() + 1);
      float[][] logits;
      try {
        logits = g.step(model);
      } catch (DecoderModel.ModelException e) {
        log.error("decode step failed for {} sequences", g.rows(), e);
        for (int r = 0; r < g.rows(); r++) {
          if (g.slot(r) != null) {
            RunningRequest owner = g.slot(r).owner;
            complete(owner, owner.fail(Failure.MODEL_FAILED, "the model failed while decoding: " + e.getMessage()));
          }
        }
        continue;
      }
      for (int r = 0; r < logits.length; r++) {
        Sequence s = g.slot(r);
        if (s != null && s.running()) {
          rows++;
          accept(s, s.sample(logits[r]));
        }
      }
    }
    metrics.step(rows, groups.size(), positions, System.nanoTime() - start);
    batch.dropFinishedRows(waiting.isEmpty());
  }

  /** Hands a freshly sampled token to its request, which may end there. */
  private void accept(Sequence s, TokenStep step) {
    GenerationOutcome outcome = s.owner.accept(s, step, spec);
    if (outcome != null) {
      complete(s.owner, outcome);
    }
  }

  /** A running request ended: its reservation is freed, its outcome counted and delivered. Null: it had ended. */
  private void complete(RunningRequest r, GenerationOutcome outcome) {
    if (outcome == null) {
      return;
    }
    release(r);
    metrics.finished(outcome);
    deliver(r.task, outcome);
  }

  /** Frees a request's reservation; its rows leave the batch at the next {@link Batch#dropFinishedRows}. */
  private void release(RunningRequest r) {
    if (running.remove(r)) {
      reservedBytes -= r.reservedBytes;
    }
  }

  private void updateGauges() {
    load = new Load(running.size(), batch.runningRows(), reservedBytes);
  }

  private static void deliver(GenerationTask task, GenerationOutcome outcome) {
    RunningRequest.tell(() -> task.listener().finished(outcome));
  }
}
