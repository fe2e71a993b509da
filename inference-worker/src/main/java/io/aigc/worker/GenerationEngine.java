package io.aigc.worker;

import ai.onnxruntime.OrtException;
import io.aigc.runtime.model.TextTokenizer;
import io.aigc.schemas.ErrorCodes;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
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
 *   <li><b>Admit</b> waiting requests in arrival order while the batch has rows and the KV-cache budget has room
 *       for the request's whole prompt plus max_tokens (for every choice). The head of the queue is never skipped,
 *       so no request starves; a request that could never fit fails at once instead of blocking the queue.
 *   <li><b>Prefill</b> each admitted prompt alone (batch of one, so its cache and first token are exactly what it
 *       gets alone) and sample each choice's first token.
 *   <li><b>Join</b> the new sequences to the running batch: their cache rows are copied into the batch's block,
 *       right-aligned, with the attention mask hiding the padding and position ids counting each row's own tokens.
 *       A model without a position_ids input numbers positions from the cache length, so there rows of different
 *       lengths would get wrong positions: such models batch only sequences of equal length (one group per length).
 *   <li><b>Decode</b> one token for every running sequence with one ONNX run per group, the previous run's cache
 *       outputs passed straight back as inputs.
 *   <li><b>Retire</b> finished sequences (end of sequence, max_tokens, a stop string, the context length) and
 *       requests past their deadline; a request's outcome goes to its listener when its last choice ends.
 * </ol>
 *
 * <p>A greedy request therefore yields exactly the tokens it yields alone (masked padding contributes exact zeros),
 * and a seeded request draws from its own random stream, whatever else shares the batch.
 *
 * <p>On {@link #close()} unfinished requests are dropped without an outcome: the worker has not committed their
 * offsets, so another worker redoes them.
 */
public final class GenerationEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GenerationEngine.class);

  private final OnnxModel model;
  private final ModelSpec spec;
  private final TextTokenizer tokenizer;
  private final EngineSettings settings;
  private final EngineMetrics metrics;
  private final Clock clock;
  private final LinkedBlockingDeque<GenerationTask> waiting = new LinkedBlockingDeque<>();
  private final ConcurrentLinkedQueue<Cancellation> cancellations = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean stopping;

  // Engine-thread state.
  private final List<Group> groups = new ArrayList<>();
  private final List<Active> active = new ArrayList<>();
  private long reservedBytes;

  // Published for metrics and the worker's back-pressure.
  private volatile int runningRows;
  private volatile int runningRequests;
  private volatile long publishedReservedBytes;

  public GenerationEngine(OnnxModel model, TextTokenizer tokenizer, EngineSettings settings, EngineMetrics metrics) {
    this(model, tokenizer, settings, metrics, Clock.systemUTC());
  }

  /** With the clock deadlines and queue times are read from (tests move it). */
  GenerationEngine(OnnxModel model, TextTokenizer tokenizer, EngineSettings settings, EngineMetrics metrics,
      Clock clock) {
    this.clock = clock;
    this.model = model;
    this.spec = model.spec();
    this.tokenizer = tokenizer;
    this.settings = settings;
    this.metrics = metrics;
    this.thread = new Thread(null, this::run, "generation-engine", OnnxModel.LARGE_STACK_BYTES);
    this.thread.setDaemon(true);
  }

  public GenerationEngine start() {
    thread.start();
    return this;
  }

  /** Queues a request; its outcome arrives on the listener. Thread-safe. */
  public void submit(GenerationTask task) {
    waiting.add(task);
  }

  /**
   * Stops a request, waiting or running. With {@code notify} its listener gets a {@code cancelled} outcome;
   * without, it is dropped silently (the worker gave its partition away and another worker will redo it).
   * Thread-safe; unknown ids are ignored.
   */
  public void cancel(String requestId, boolean notify) {
    cancellations.add(new Cancellation(requestId, notify));
  }

  public int waitingRequests() {
    return waiting.size();
  }

  public int runningRequests() {
    return runningRequests;
  }

  public int runningRows() {
    return runningRows;
  }

  /** Cache bytes reserved by running requests (their prompt plus max_tokens, per choice). */
  public long reservedKvBytes() {
    return publishedReservedBytes;
  }

  public ModelSpec spec() {
    return spec;
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

  /** One admitted request and its choices. */
  private static final class Active {
    final GenerationTask task;
    final StopStrings stops;
    final long reserved;
    final long queueMs;
    final long prefillStart;
    final Sequence[] sequences;
    long firstToken;
    long lastToken;
    int unfinished;
    boolean done;

    Active(GenerationTask task, StopStrings stops, long reserved, long queueMs, long prefillStart) {
      this.task = task;
      this.stops = stops;
      this.reserved = reserved;
      this.queueMs = queueMs;
      this.prefillStart = prefillStart;
      this.sequences = new Sequence[task.params().n()];
      this.unfinished = sequences.length;
    }
  }

  /** One choice of a request: a row of the batch while it runs. */
  private static final class Sequence {
    final Active owner;
    final int index;
    final SplittableRandom random;
    int[] tokens = new int[16];
    int count;
    /** The newest token: sampled, not yet fed to the model. */
    int pending;
    String finishReason;

    Sequence(Active owner, int index, SplittableRandom random) {
      this.owner = owner;
      this.index = index;
      this.random = random;
    }

    void append(int token) {
      if (count == tokens.length) {
        tokens = Arrays.copyOf(tokens, count * 2);
      }
      tokens[count++] = token;
      pending = token;
    }

    boolean running() {
      return finishReason == null && !owner.done;
    }
  }

  /**
   * Sequences decoded by one ONNX run, and their cache. A slot is a row of the cache; a null slot is free: the
   * sequence there finished, and the next one to join may take the row over in place.
   */
  private static final class Group {
    KvBlock kv;
    Sequence[] slots;

    Group(KvBlock kv, List<Sequence> rows) {
      this.kv = kv;
      this.slots = rows.toArray(new Sequence[0]);
    }

    int running() {
      int n = 0;
      for (Sequence s : slots) {
        if (s != null) {
          n++;
        }
      }
      return n;
    }

    int freeSlot() {
      for (int i = 0; i < slots.length; i++) {
        if (slots[i] == null) {
          return i;
        }
      }
      return -1;
    }
  }

  /** Freshly prefilled sequences (the choices of one prompt) and the row of the prefill's cache they share. */
  private record Join(KvBlock prefill, int row, List<Sequence> sequences) {}

  private void run() {
    log.info("generation engine on {}: {} layers, {} KV heads x {}, {} cache, {} position ids, batch <= {} rows, "
            + "KV budget {} MiB", model.device(), spec.layers(), spec.kvHeads(), spec.headDim(), spec.kvType(),
        spec.hasPositionIds() ? "with" : "without (equal-length batching only)", settings.maxBatchRows(),
        settings.kvBudgetBytes() >> 20);
    while (!stopping) {
      try {
        if (groups.isEmpty() && cancellations.isEmpty()) {
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
        publish();
      } catch (InterruptedException e) {
        if (!stopping) {
          log.warn("engine interrupted while running; continuing");
        }
      } catch (RuntimeException | Error e) {
        // A bug or an exhausted resource in the middle of a step: fail what runs, keep the engine alive.
        log.error("generation step failed; failing the running requests", e);
        for (Active a : List.copyOf(active)) {
          fail(a, ErrorCodes.INTERNAL_ERROR, "generation failed: " + e);
        }
        dropFinishedRows();
        publish();
      }
    }
    for (Group g : groups) {
      g.kv.close();
    }
    groups.clear();
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
          deliver(task, GenerationOutcome.failed(id, task.promptIds().length, ErrorCodes.CANCELLED,
              "the request was cancelled"));
        }
        return true;
      });
      for (Active a : List.copyOf(active)) {
        if (a.task.requestId().equals(id)) {
          if (notify) {
            fail(a, ErrorCodes.CANCELLED, "the request was cancelled");
          } else {
            release(a);
          }
        }
      }
    }
    dropFinishedRows();
  }

  private void admit() throws InterruptedException {
    List<GenerationTask> admitted = new ArrayList<>();
    int prefillTokens = 0;
    int rowsTaken = runningRowCount();
    long reserved = reservedBytes;
    for (GenerationTask task; (task = waiting.peek()) != null; ) {
      if (expired(task)) {
        waiting.poll();
        deliver(task, GenerationOutcome.failed(task.requestId(), task.promptIds().length,
            ErrorCodes.DEADLINE_EXCEEDED, "the request's deadline passed before it was generated"));
        continue;
      }
      long need = task.reservedTokens() * spec.kvBytesPerToken();
      int rows = task.params().n();
      if (need > settings.kvBudgetBytes() || rows > settings.maxBatchRows()
          || task.promptIds().length >= spec.contextLength()) {
        waiting.poll();
        deliver(task, GenerationOutcome.failed(task.requestId(), task.promptIds().length, ErrorCodes.INVALID_REQUEST,
            "the request needs " + (need >> 20) + " MiB of KV cache and " + rows + " batch rows; this worker allows "
                + (settings.kvBudgetBytes() >> 20) + " MiB and " + settings.maxBatchRows() + " rows"));
        continue;
      }
      boolean fits = rowsTaken + rows <= settings.maxBatchRows() && reserved + need <= settings.kvBudgetBytes();
      boolean prefillRoom = prefillTokens == 0 || prefillTokens + task.promptIds().length
          <= settings.maxPrefillTokensPerStep();
      if (!fits || !prefillRoom) {
        break; // first come, first served: wait for room rather than let a later request overtake
      }
      waiting.poll();
      admitted.add(task);
      rowsTaken += rows;
      reserved += need;
      prefillTokens += task.promptIds().length;
    }
    if (admitted.isEmpty()) {
      return;
    }
    List<Join> joins = new ArrayList<>();
    for (List<GenerationTask> run : prefillRuns(admitted)) {
      joins.addAll(prefill(run));
    }
    join(joins);
    // Each prefill's cache has been copied into the batch by now.
    joins.stream().map(Join::prefill).distinct().forEach(KvBlock::close);
  }

  /**
   * Groups the prompts admitted together into ONNX runs. Prompts of one length share a run with no padding; with
   * position_ids, prompts of different lengths share one too, left-padded, as long as padding stays under half the
   * run: one larger matrix product per run instead of one small one per prompt is what a batch buys.
   */
  private List<List<GenerationTask>> prefillRuns(List<GenerationTask> tasks) {
    List<GenerationTask> byLength = new ArrayList<>(tasks);
    byLength.sort(Comparator.comparingInt(t -> t.promptIds().length));
    List<List<GenerationTask>> runs = new ArrayList<>();
    List<GenerationTask> run = new ArrayList<>();
    long realTokens = 0;
    for (GenerationTask t : byLength) {
      int length = t.promptIds().length;
      boolean joinsRun = !run.isEmpty() && (spec.hasPositionIds()
          ? (long) length * (run.size() + 1) <= 2 * (realTokens + length)
          : length == run.get(0).promptIds().length);
      if (!run.isEmpty() && !joinsRun) {
        runs.add(run);
        run = new ArrayList<>();
        realTokens = 0;
      }
      run.add(t);
      realTokens += length;
    }
    runs.add(run);
    return runs;
  }

  /** Prefills one run of prompts in one ONNX run and samples each choice's first token. */
  private List<Join> prefill(List<GenerationTask> tasks) {
    long start = System.nanoTime();
    int rows = tasks.size();
    int seqLen = tasks.stream().mapToInt(t -> t.promptIds().length).max().orElseThrow();
    int[] tokens = new int[rows * seqLen];
    int[] real = new int[rows];
    List<Active> run = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      GenerationTask task = tasks.get(r);
      int[] prompt = task.promptIds();
      System.arraycopy(prompt, 0, tokens, r * seqLen + seqLen - prompt.length, prompt.length); // left-padded
      real[r] = prompt.length;
      long queueMs = Math.max(0, Duration.between(task.createdAt(), clock.instant()).toMillis());
      long reserve = task.reservedTokens() * spec.kvBytesPerToken();
      Active a = new Active(task, new StopStrings(tokenizer, task.params().stop()), reserve, queueMs, start);
      active.add(a);
      reservedBytes += reserve;
      run.add(a);
    }
    OnnxModel.Forward forward;
    try (KvBlock empty = KvBlock.empty(spec, model.pool(), rows)) {
      forward = model.forward(tokens, seqLen, empty, real);
    } catch (OrtException | RuntimeException e) {
      log.warn("prefill of {} prompts failed", rows, e);
      for (Active a : run) {
        fail(a, ErrorCodes.INTERNAL_ERROR, "the model failed on this prompt: " + e.getMessage());
      }
      return List.of();
    }
    metrics.prefill(java.util.Arrays.stream(real).sum(), System.nanoTime() - start);
    long firstToken = System.nanoTime();
    List<Join> joins = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      Active a = run.get(r);
      a.firstToken = firstToken;
      List<Sequence> running = new ArrayList<>();
      for (int i = 0; i < a.sequences.length; i++) {
        Sequence s = new Sequence(a, i, random(a.task.params().seed(), i));
        a.sequences[i] = s;
        accept(s, Sampler.next(forward.logits()[r], a.task.params(), s.random));
        if (s.running()) {
          running.add(s);
        }
      }
      if (!running.isEmpty()) {
        joins.add(new Join(forward.present(), r, running));
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

  /**
   * Adds newly prefilled sequences to the batch. A sequence takes over a free row in place when its prompt fits the
   * batch's length: only its own cache is copied. Otherwise the batch is rebuilt around it (every row copied,
   * right-aligned to the longest). Without position_ids a sequence joins only the group of its own length.
   */
  private void join(List<Join> joins) {
    for (Join j : joins) {
      Group target = null;
      for (Group g : groups) {
        if (spec.hasPositionIds() || g.kv.length() == j.prefill().rowLength(j.row())) {
          target = g;
          break;
        }
      }
      List<Sequence> rest = new ArrayList<>();
      for (Sequence s : j.sequences()) {
        int slot = target != null && spec.hasPositionIds() && j.prefill().rowLength(j.row()) <= target.kv.length()
            ? target.freeSlot() : -1;
        if (slot >= 0) {
          target.kv.overwriteRow(slot, j.prefill(), j.row());
          metrics.cacheCopied(j.prefill().rowLength(j.row()) * spec.kvBytesPerToken());
          target.slots[slot] = s;
        } else {
          rest.add(s);
        }
      }
      if (!rest.isEmpty()) {
        List<KvBlock.Row> rows = new ArrayList<>();
        List<Sequence> sequences = new ArrayList<>();
        if (target != null) {
          for (int r = 0; r < target.slots.length; r++) {
            if (target.slots[r] != null) {
              rows.add(new KvBlock.Row(target.kv, r));
              sequences.add(target.slots[r]);
            }
          }
        }
        for (Sequence s : rest) {
          rows.add(new KvBlock.Row(j.prefill(), j.row())); // choices of one prompt share its prefill
          sequences.add(s);
        }
        KvBlock merged = KvBlock.gather(spec, model.pool(), rows);
        metrics.cacheCopied(merged.bytes());
        if (target != null) {
          target.kv.close();
          target.kv = merged;
          target.slots = sequences.toArray(new Sequence[0]);
        } else {
          groups.add(new Group(merged, sequences));
        }
      }
    }
  }

  private void decodeStep() {
    if (groups.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    int rows = 0;
    int positions = 0;
    for (Group g : List.copyOf(groups)) {
      positions = Math.max(positions, g.kv.length() + 1);
      int[] tokens = new int[g.slots.length];
      for (int r = 0; r < tokens.length; r++) {
        if (g.slots[r] != null) {
          tokens[r] = g.slots[r].pending;
        } else {
          g.kv.clearRow(r); // a free row attends only to its own dummy input until a sequence takes it
        }
      }
      OnnxModel.Forward forward;
      try {
        forward = model.forward(tokens, 1, g.kv);
      } catch (OrtException e) {
        log.error("decode step failed for {} sequences", tokens.length, e);
        for (Sequence s : g.slots) {
          if (s != null) {
            fail(s.owner, ErrorCodes.INTERNAL_ERROR, "the model failed while decoding: " + e.getMessage());
          }
        }
        continue;
      }
      g.kv.close();
      g.kv = forward.present();
      for (int r = 0; r < tokens.length; r++) {
        Sequence s = g.slots[r];
        if (s != null && s.running()) {
          rows++;
          accept(s, Sampler.next(forward.logits()[r], s.owner.task.params(), s.random));
        }
      }
    }
    metrics.step(rows, groups.size(), positions, System.nanoTime() - start);
    dropFinishedRows();
  }

  /** Takes a freshly sampled token: ends the sequence or makes the token the next input. */
  private void accept(Sequence s, int token) {
    Active a = s.owner;
    a.lastToken = System.nanoTime();
    SamplingParams params = a.task.params();
    if (!params.ignoreEos() && spec.eosTokenIds().contains(token)) {
      finish(s, "stop");
      return;
    }
    s.append(token);
    if (s.count >= params.maxTokens()) {
      finish(s, "length");
    } else if (a.stops.reached(a.task.promptIds(), s.tokens, s.count)) {
      finish(s, "stop");
    } else if (a.task.promptIds().length + s.count >= spec.contextLength()) {
      finish(s, "length");
    }
  }

  private void finish(Sequence s, String reason) {
    s.finishReason = reason;
    Active a = s.owner;
    if (--a.unfinished == 0 && !a.done) {
      List<GenerationOutcome.Choice> choices = new ArrayList<>();
      int generated = 0;
      for (Sequence q : a.sequences) {
        choices.add(new GenerationOutcome.Choice(q.index, Arrays.copyOf(q.tokens, q.count), q.finishReason));
        generated += q.count;
      }
      choices.sort(Comparator.comparingInt(GenerationOutcome.Choice::index));
      GenerationOutcome outcome = new GenerationOutcome(a.task.requestId(), choices, a.task.promptIds().length,
          a.queueMs, nanosToMillis(a.firstToken - a.prefillStart), nanosToMillis(a.lastToken - a.firstToken),
          null, null);
      release(a);
      metrics.finished(outcome, generated);
      deliver(a.task, outcome);
    }
  }

  private void retireExpired() {
    for (Active a : List.copyOf(active)) {
      if (expired(a.task)) {
        fail(a, ErrorCodes.DEADLINE_EXCEEDED, "the request's deadline passed while it was generated");
      }
    }
    dropFinishedRows();
  }

  private void fail(Active a, String code, String message) {
    if (a.done) {
      return;
    }
    release(a);
    GenerationOutcome outcome = GenerationOutcome.failed(a.task.requestId(), a.task.promptIds().length, code, message);
    metrics.finished(outcome, 0);
    deliver(a.task, outcome);
  }

  /** Frees a request's reservation; its rows leave the batch at the next {@link #dropFinishedRows()}. */
  private void release(Active a) {
    a.done = true;
    active.remove(a);
    reservedBytes -= a.reserved;
  }

  /**
   * Frees the rows of sequences that no longer run. A free row is taken over by the next sequence to join, so most
   * joins and leaves copy nothing but the newcomer's own cache. The batch is rebuilt (every running row copied,
   * padding no row needs trimmed) when more than a quarter of its rows are free and nobody waits to fill them, when
   * its length has grown past {@link #paddedLengthLimit} (rows taken over in place never shorten it, and every step
   * pays for its whole length), or, for a model without position_ids, at once (its groups cannot take newcomers of
   * other lengths).
   */
  private void dropFinishedRows() {
    for (Group g : List.copyOf(groups)) {
      boolean freed = false;
      for (int r = 0; r < g.slots.length; r++) {
        if (g.slots[r] != null && !g.slots[r].running()) {
          g.slots[r] = null;
          freed = true;
        }
      }
      int running = g.running();
      if (running == 0) {
        groups.remove(g);
        g.kv.close();
        continue;
      }
      int longest = 0;
      for (int r = 0; r < g.slots.length; r++) {
        if (g.slots[r] != null) {
          longest = Math.max(longest, g.kv.rowLength(r));
        }
      }
      boolean idleRows = running < g.slots.length && (g.slots.length - running) * 4 > g.slots.length
          && waiting.isEmpty();
      boolean overPadded = g.kv.length() > paddedLengthLimit(longest);
      boolean compact = !spec.hasPositionIds() ? freed : idleRows || overPadded;
      if (compact) {
        List<KvBlock.Row> keep = new ArrayList<>();
        List<Sequence> sequences = new ArrayList<>();
        for (int r = 0; r < g.slots.length; r++) {
          if (g.slots[r] != null) {
            keep.add(new KvBlock.Row(g.kv, r));
            sequences.add(g.slots[r]);
          }
        }
        KvBlock old = g.kv;
        g.kv = KvBlock.gather(spec, model.pool(), keep);
        metrics.cacheCopied(g.kv.bytes());
        g.slots = sequences.toArray(new Sequence[0]);
        old.close();
      }
    }
  }

  /**
   * The longest a batch may grow while its longest sequence is {@code longest}. A rebuild copies the cache once, about
   * what one step costs in memory traffic, while every step reads and rewrites the padding: trimming every
   * {@code longest / 4} steps keeps the padding near an eighth of the batch for about one copy in that many steps.
   */
  static int paddedLengthLimit(int longest) {
    return longest + Math.max(16, longest / 4);
  }

  private int runningRowCount() {
    int rows = 0;
    for (Group g : groups) {
      rows += g.running();
    }
    return rows;
  }

  private void publish() {
    runningRows = runningRowCount();
    runningRequests = active.size();
    publishedReservedBytes = reservedBytes;
  }

  private boolean expired(GenerationTask task) {
    return task.deadline() != null && clock.instant().isAfter(task.deadline());
  }

  private static void deliver(GenerationTask task, GenerationOutcome outcome) {
    try {
      task.listener().accept(outcome);
    } catch (RuntimeException e) {
      log.error("the outcome listener of {} failed", task.requestId(), e);
    }
  }

  private static long nanosToMillis(long nanos) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nanos));
  }

  /** For tests and the benchmark: the set of end-of-sequence ids. */
  Set<Integer> eosTokenIds() {
    return spec.eosTokenIds();
  }
}
