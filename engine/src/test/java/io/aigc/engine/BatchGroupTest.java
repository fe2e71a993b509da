package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.engine.RunningRequest.Sequence;
import io.aigc.model.SamplingParams;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** When a group of rows is rebuilt, and what taking a row over and rebuilding copy; no model involved. */
class BatchGroupTest {
  private static final ModelSpec SPEC = FakeDecoderModel.spec(true, 1000, Set.of());
  private static final long PER_TOKEN = SPEC.kvBytesPerToken();
  private final BufferPool pool = new BufferPool(1L << 20);
  private final List<BatchGroup> groups = new ArrayList<>();

  @AfterEach
  void everyCacheGoesBackToThePool() {
    groups.forEach(BatchGroup::close);
    assertThat(pool.inUseBytes()).isZero();
  }

  private static Sequence sequence() {
    GenerationTask task = new GenerationTask("r", new int[] {1}, SamplingParams.greedy(10), Instant.EPOCH, null,
        GenerationListener.onFinished(o -> {}));
    return new RunningRequest(task, Sampler.of(task.params(), Set.of(), new Sampler.Scratch()),
        null, 0, 0, 0).start(0, new SplittableRandom(1));
  }

  /** A group of {@code length} positions whose rows hold {@code rowLengths} real tokens each, all running. */
  private BatchGroup group(int length, int... rowLengths) {
    List<Sequence> sequences = new ArrayList<>();
    for (int i = 0; i < rowLengths.length; i++) {
      sequences.add(sequence());
    }
    BatchGroup g = new BatchGroup(KvBlock.forOutput(SPEC, pool, rowLengths.length, length, rowLengths), sequences);
    groups.add(g);
    return g;
  }

  private static int[] rowsOf(int count, int length) {
    int[] lengths = new int[count];
    Arrays.fill(lengths, length);
    return lengths;
  }

  /** Ends the sequences in {@code rows} and frees their rows, as the engine does after a step. */
  private static boolean finish(BatchGroup g, int... rows) {
    for (int r : rows) {
      g.slot(r).owner.drop();
    }
    return g.freeFinished();
  }

  @Test
  void thePaddedLengthLimitIsTheLongestRowPlusSixteenOrAQuarterOfItWhicheverIsMore() {
    assertThat(BatchGroup.paddedLengthLimit(1)).isEqualTo(17);
    assertThat(BatchGroup.paddedLengthLimit(40)).isEqualTo(56);
    assertThat(BatchGroup.paddedLengthLimit(64)).isEqualTo(80); // where the two meet
    assertThat(BatchGroup.paddedLengthLimit(100)).isEqualTo(125);
  }

  @Test
  void onlyTheRowsOfSequencesThatStoppedAreFreed() {
    BatchGroup g = group(8, 8, 5, 3);
    Sequence first = g.slot(0);
    Sequence last = g.slot(2);
    assertThat(g.freeFinished()).isFalse();
    assertThat(finish(g, 1)).isTrue();
    assertThat(g.rows()).isEqualTo(3);
    assertThat(g.running()).isEqualTo(2);
    assertThat(g.freeSlot()).isEqualTo(1);
    assertThat(g.slot(0)).isSameAs(first);
    assertThat(g.slot(2)).isSameAs(last);
    assertThat(g.freeFinished()).isFalse(); // freed once
  }

  @Test
  void withPositionIdsIdleRowsAreCompactedWhenMoreThanAQuarterAreFreeAndNobodyWaitsForThem() {
    BatchGroup g = group(20, rowsOf(8, 20));
    assertThat(finish(g, 0, 5)).isTrue();
    // Two idle rows in eight: a quarter, not more.
    assertThat(g.compactionDue(true, true, true)).isFalse();
    assertThat(finish(g, 7)).isTrue();
    assertThat(g.compactionDue(true, true, true)).isTrue();
    // Somebody waiting will take the idle rows over in place: rebuilding now would copy for nothing.
    assertThat(g.compactionDue(true, true, false)).isFalse();
  }

  @Test
  void withPositionIdsAGroupPastThePaddedLimitOfItsLongestRowIsCompactedEvenWhileOthersWait() {
    assertThat(group(36, 20, 3).compactionDue(true, false, false)).isFalse(); // 20 + 16
    assertThat(group(37, 20, 3).compactionDue(true, false, false)).isTrue();
    assertThat(group(125, 100, 100).compactionDue(true, false, false)).isFalse(); // 100 + 100 / 4
    assertThat(group(126, 100, 100).compactionDue(true, false, false)).isTrue();
  }

  @Test
  void aFinishedLongRowNoLongerHoldsTheGroupsLength() {
    BatchGroup g = group(60, 60, 20, 20, 20, 20);
    assertThat(g.compactionDue(true, false, false)).isFalse();
    // One idle row in five is too few to compact for, but the rows left need only 20 positions of the 60.
    assertThat(finish(g, 0)).isTrue();
    assertThat(g.compactionDue(true, true, false)).isTrue();
  }

  @Test
  void withoutPositionIdsAGroupIsCompactedWheneverARowWasFreedAndOnlyThen() {
    BatchGroup g = group(10, rowsOf(8, 10));
    assertThat(finish(g, 3)).isTrue();
    // One idle row in eight and somebody waiting: with position ids it would wait to be taken over.
    assertThat(g.compactionDue(false, true, false)).isTrue();
    // At a step that frees nothing there is nothing to do, however many rows idle and whoever waits.
    assertThat(finish(g, 0, 1, 2)).isTrue();
    assertThat(g.freeFinished()).isFalse();
    assertThat(g.compactionDue(false, false, true)).isFalse();
    assertThat(g.compactionDue(false, false, false)).isFalse();
  }

  @Test
  void aNewcomerTakingOverAFreeRowCopiesOnlyItsOwnCache() {
    BatchGroup g = group(30, 30, 12, 25);
    finish(g, 1);
    Sequence newcomer = sequence();
    try (KvBlock prefill = KvBlock.forOutput(SPEC, pool, 2, 7, new int[] {4, 7})) {
      assertThat(g.takeOver(g.freeSlot(), newcomer, prefill, 0)).isEqualTo(4 * PER_TOKEN);
    }
    assertThat(g.slot(1)).isSameAs(newcomer);
    assertThat(g.running()).isEqualTo(3);
    assertThat(g.freeSlot()).isEqualTo(-1);
    assertThat(g.rows()).isEqualTo(3);
    assertThat(g.length()).isEqualTo(30);
  }

  @Test
  void aRebuildKeepsTheRunningRowsInOrderRightAlignedToTheLongestAndDropsTheFreeOnes() {
    BatchGroup g = group(40, 10, 40, 5, 12);
    Sequence first = g.slot(0);
    Sequence third = g.slot(2);
    Sequence fourth = g.slot(3);
    finish(g, 1);
    assertThat(g.rebuild(pool, List.of(), List.of())).isEqualTo(3 * 12 * PER_TOKEN);
    assertThat(g.rows()).isEqualTo(3);
    assertThat(g.length()).isEqualTo(12);
    assertThat(List.of(g.slot(0), g.slot(1), g.slot(2))).containsExactly(first, third, fourth);
    assertThat(g.compactionDue(true, false, true)).isFalse();
  }
}
