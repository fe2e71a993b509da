package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.model.SamplingParams;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** Who is admitted at a step, and how prompts are grouped into prefill runs: pure policy, on plain queues. */
class AdmissionTest {
  private static final ModelSpec SPEC = FakeDecoderModel.spec(true, 100, Set.of());
  private static final long PER_TOKEN = SPEC.kvBytesPerToken();
  private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");
  private static final long ROOMY_BUDGET = 1_000_000 * PER_TOKEN;

  private static GenerationTask task(String id, int promptLength, int maxTokens, int n, Instant deadline) {
    SamplingParams params = SamplingParams.builder().maxTokens(maxTokens).temperature(0).n(n).build();
    return new GenerationTask(id, new int[promptLength], params, NOW.minusSeconds(1), deadline,
        GenerationListener.onFinished(o -> {}));
  }

  private static GenerationTask task(String id, int promptLength, int maxTokens) {
    return task(id, promptLength, maxTokens, 1, null);
  }

  private static Deque<GenerationTask> queue(GenerationTask... tasks) {
    return new ArrayDeque<>(Arrays.asList(tasks));
  }

  private static List<String> ids(Iterable<GenerationTask> tasks) {
    return StreamSupport.stream(tasks.spliterator(), false).map(GenerationTask::requestId).toList();
  }

  private static Admission admission(int rows, long budget, int prefillTokens) {
    return new Admission(new EngineSettings(rows, budget, prefillTokens), SPEC);
  }

  @Test
  void requestsAreAdmittedInArrivalOrderWhileTheBatchHasRows() {
    Deque<GenerationTask> waiting = queue(task("a", 5, 5), task("b", 9, 5), task("c", 2, 5), task("d", 1, 5),
        task("e", 3, 5));
    Admission.Decision decision = admission(4, ROOMY_BUDGET, 4096).next(waiting, 1, 0, NOW);
    assertThat(ids(decision.admitted())).containsExactly("a", "b", "c");
    assertThat(decision.refused()).isEmpty();
    assertThat(ids(waiting)).containsExactly("d", "e");
  }

  @Test
  void aRequestTakesARowForEachOfItsChoices() {
    Deque<GenerationTask> waiting = queue(task("three", 5, 5, 3, null), task("one", 5, 5, 1, null));
    Admission.Decision decision = admission(4, ROOMY_BUDGET, 4096).next(waiting, 1, 0, NOW);
    assertThat(ids(decision.admitted())).containsExactly("three");
    assertThat(ids(waiting)).containsExactly("one");
  }

  @Test
  void aLaterSmallRequestNeverOvertakesAHeadThatWaitsForCacheRoom() {
    long budget = 100 * PER_TOKEN;
    // The head reserves its prompt plus max_tokens: 50 tokens; the small one 11.
    Deque<GenerationTask> waiting = queue(task("head", 10, 40), task("small", 10, 1));
    Admission admission = admission(64, budget, 4096);

    Admission.Decision full = admission.next(waiting, 1, 51 * PER_TOKEN, NOW);
    assertThat(full.admitted()).isEmpty();
    assertThat(full.refused()).isEmpty();
    assertThat(ids(waiting)).containsExactly("head", "small");

    // Room for exactly the head: it goes, and the small one still waits behind it.
    Admission.Decision room = admission.next(waiting, 1, 50 * PER_TOKEN, NOW);
    assertThat(ids(room.admitted())).containsExactly("head");
    assertThat(ids(waiting)).containsExactly("small");
  }

  @Test
  void aLaterSmallRequestNeverOvertakesAHeadThatWaitsForRows() {
    Deque<GenerationTask> waiting = queue(task("head", 5, 5, 3, null), task("small", 5, 5, 1, null));
    Admission.Decision decision = admission(4, ROOMY_BUDGET, 4096).next(waiting, 2, 0, NOW);
    assertThat(decision.admitted()).isEmpty();
    assertThat(decision.refused()).isEmpty();
    assertThat(ids(waiting)).containsExactly("head", "small");
  }

  @Test
  void aRequestThatCouldNeverFitIsRefusedAtOnceAndDoesNotBlockTheQueue() {
    long budget = 200 * PER_TOKEN;
    Deque<GenerationTask> waiting = queue(
        task("too-much-cache", 10, 191), // 201 tokens: more than the whole budget, even in an empty batch
        task("too-many-choices", 2, 2, 5, null), // five rows of four
        task("fills-the-context", 100, 1), // a prompt as long as the context leaves no room for a token
        task("fits", 99, 1)); // the longest prompt that does
    // Refused although the batch is busy: not for want of room now, but because there will never be enough.
    Admission.Decision decision = admission(4, budget, 4096).next(waiting, 3, 90 * PER_TOKEN, NOW);
    assertThat(decision.refused()).extracting(r -> r.task().requestId())
        .containsExactly("too-much-cache", "too-many-choices", "fills-the-context");
    assertThat(decision.refused()).allSatisfy(r -> assertThat(r.failure()).isEqualTo(Failure.DOES_NOT_FIT));
    assertThat(decision.refused().get(0).message()).contains("KV cache");
    assertThat(ids(decision.admitted())).containsExactly("fits");
    assertThat(waiting).isEmpty();
  }

  @Test
  void aRequestWhoseDeadlinePassedIsRefusedInsteadOfAdmitted() {
    Deque<GenerationTask> waiting = queue(task("late", 5, 5, 1, NOW.minusMillis(1)),
        task("just-in-time", 5, 5, 1, NOW), task("no-deadline", 5, 5));
    Admission.Decision decision = admission(64, ROOMY_BUDGET, 4096).next(waiting, 0, 0, NOW);
    assertThat(decision.refused()).singleElement().satisfies(r -> {
      assertThat(r.task().requestId()).isEqualTo("late");
      assertThat(r.failure()).isEqualTo(Failure.DEADLINE_EXCEEDED);
    });
    assertThat(ids(decision.admitted())).containsExactly("just-in-time", "no-deadline");
    assertThat(waiting).isEmpty();
  }

  @Test
  void atMostTheStepsPrefillTokensAreAdmittedButAlwaysAtLeastOneRequest() {
    Admission admission = admission(64, ROOMY_BUDGET, 10);
    Deque<GenerationTask> waiting = queue(task("a", 4, 5), task("b", 6, 5), task("c", 1, 5));
    assertThat(ids(admission.next(waiting, 0, 0, NOW).admitted())).containsExactly("a", "b"); // exactly 10
    assertThat(ids(waiting)).containsExactly("c");

    // A prompt longer than the cap still gets in, alone, so it does not wait forever.
    Deque<GenerationTask> big = queue(task("big", 50, 5), task("tiny", 1, 5));
    assertThat(ids(admission.next(big, 0, 0, NOW).admitted())).containsExactly("big");
    assertThat(ids(big)).containsExactly("tiny");
  }

  private static List<List<Integer>> runLengths(boolean positionIds, int... promptLengths) {
    List<GenerationTask> tasks = IntStream.range(0, promptLengths.length)
        .mapToObj(i -> task("t" + i, promptLengths[i], 5)).toList();
    return Admission.prefillRuns(tasks, positionIds).stream()
        .map(run -> run.stream().map(GenerationTask::promptLength).toList()).toList();
  }

  @Test
  void withPositionIdsPromptsOfDifferentLengthsShareAPrefillRunWhilePaddingStaysWithinHalfOfIt() {
    // Sorted by length, so the padding is what the run's longest prompt imposes on the shorter ones.
    assertThat(runLengths(true, 6, 3, 5)).containsExactly(List.of(3, 5, 6));
    // Two prompts always share a run: the padding is less than the longer one's tokens.
    assertThat(runLengths(true, 1, 30)).containsExactly(List.of(1, 30));
    // 2, 2 and 8: 12 padding positions in 24, exactly half, still one run; with 9 the padding would be the most.
    assertThat(runLengths(true, 2, 8, 2)).containsExactly(List.of(2, 2, 8));
    assertThat(runLengths(true, 2, 9, 2)).containsExactly(List.of(2, 2), List.of(9));
    assertThat(runLengths(true, 10, 1, 10, 1)).containsExactly(List.of(1, 1), List.of(10, 10));
  }

  @Test
  void withoutPositionIdsOnlyPromptsOfOneLengthShareAPrefillRun() {
    List<GenerationTask> tasks = List.of(task("a", 3, 5), task("b", 5, 5), task("c", 3, 5), task("d", 5, 5),
        task("e", 4, 5));
    assertThat(Admission.prefillRuns(tasks, false)).extracting(AdmissionTest::ids)
        .containsExactly(List.of("a", "c"), List.of("e"), List.of("b", "d"));
    assertThat(runLengths(false, 2, 2, 8)).containsExactly(List.of(2, 2), List.of(8));
  }
}
