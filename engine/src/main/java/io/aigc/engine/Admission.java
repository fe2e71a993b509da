package io.aigc.engine;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

/**
 * Who joins the running batch at the next step, and how their prompts are grouped into prefill runs. Pure policy:
 * no model, no threads, so it is tested on plain queues.
 *
 * <p>Waiting requests are admitted in arrival order while the batch has rows ({@code maxBatchRows}) and the KV-cache
 * budget has room for the request's whole prompt plus max_tokens, for every choice: an admitted request always
 * finishes. The head of the queue is never overtaken, so no request starves; a request that could never fit (or
 * whose deadline has passed, or whose logit_bias names a token the model does not have) is refused at once instead of
 * blocking the queue. At most {@code maxPrefillTokensPerStep} prompt tokens are admitted per step (though always at
 * least one request), so a burst of arrivals delays the running sequences by a bounded amount.
 */
final class Admission {
  /** A request taken off the queue that will never run. */
  record Refusal(GenerationTask task, Failure failure, String message) {}

  /** What one admission step decided: requests to prefill now, in arrival order, and requests refused. */
  record Decision(List<GenerationTask> admitted, List<Refusal> refused) {}

  private final EngineSettings settings;
  private final ModelSpec spec;

  Admission(EngineSettings settings, ModelSpec spec) {
    this.settings = settings;
    this.spec = spec;
  }

  /**
   * Takes from the head of {@code waiting} what may run now, given the rows and cache bytes the batch already holds.
   * What stays in {@code waiting} waits for room.
   */
  Decision next(Deque<GenerationTask> waiting, int rowsTaken, long reservedBytes, Instant now) {
    List<GenerationTask> admitted = new ArrayList<>();
    List<Refusal> refused = new ArrayList<>();
    int prefillTokens = 0;
    for (GenerationTask task; (task = waiting.peek()) != null; ) {
      if (task.expiredAt(now)) {
        waiting.poll();
        refused.add(new Refusal(task, Failure.DEADLINE_EXCEEDED,
            "the request's deadline passed before it was generated"));
        continue;
      }
      int outside = task.params().logitBias().keySet().stream().filter(t -> t >= spec.vocabSize()).findFirst()
          .orElse(-1);
      if (outside >= 0) {
        waiting.poll();
        refused.add(new Refusal(task, Failure.DOES_NOT_FIT, "logit_bias names token " + outside
            + ", outside the vocabulary [0, " + spec.vocabSize() + ")"));
        continue;
      }
      long need = task.reservedTokens() * spec.kvBytesPerToken();
      int rows = task.params().n();
      if (need > settings.kvBudgetBytes() || rows > settings.maxBatchRows()
          || task.promptLength() >= spec.contextLength()) {
        waiting.poll();
        refused.add(new Refusal(task, Failure.DOES_NOT_FIT, "the request needs " + (need >> 20)
            + " MiB of KV cache and " + rows + " batch rows; this worker allows " + (settings.kvBudgetBytes() >> 20)
            + " MiB and " + settings.maxBatchRows() + " rows"));
        continue;
      }
      boolean fits = rowsTaken + rows <= settings.maxBatchRows() && reservedBytes + need <= settings.kvBudgetBytes();
      boolean prefillRoom = prefillTokens == 0
          || prefillTokens + task.promptLength() <= settings.maxPrefillTokensPerStep();
      if (!fits || !prefillRoom) {
        break; // first come, first served: wait for room rather than let a later request overtake
      }
      waiting.poll();
      admitted.add(task);
      rowsTaken += rows;
      reservedBytes += need;
      prefillTokens += task.promptLength();
    }
    return new Decision(admitted, refused);
  }

  /**
   * Groups the prompts admitted together into ONNX runs. Prompts of one length share a run with no padding; with
   * position ids, prompts of different lengths share one too, left-padded, as long as padding stays under half the
   * run: one larger matrix product per run instead of one small one per prompt is what a batch buys. Without
   * position ids only prompts of one length share a run (the model would number padded rows' positions wrongly).
   */
  static List<List<GenerationTask>> prefillRuns(List<GenerationTask> tasks, boolean positionIds) {
    List<GenerationTask> byLength = new ArrayList<>(tasks);
    byLength.sort(Comparator.comparingInt(GenerationTask::promptLength));
    List<List<GenerationTask>> runs = new ArrayList<>();
    List<GenerationTask> run = new ArrayList<>();
    long realTokens = 0;
    for (GenerationTask t : byLength) {
      int length = t.promptLength();
      boolean joinsRun = !run.isEmpty() && (positionIds
          ? (long) length * (run.size() + 1) <= 2 * (realTokens + length)
          : length == run.get(0).promptLength());
      if (!run.isEmpty() && !joinsRun) {
        runs.add(run);
        run = new ArrayList<>();
        realTokens = 0;
      }
      run.add(t);
      realTokens += length;
    }
    if (!run.isEmpty()) {
      runs.add(run);
    }
    return runs;
  }
}
