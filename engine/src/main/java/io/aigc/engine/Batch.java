package io.aigc.engine;

import io.aigc.engine.RunningRequest.Sequence;
import java.util.ArrayList;
import java.util.List;

/**
 * The running batch: the groups of sequences decoded together, and how sequences join and leave it. With position
 * ids there is one group, whose rows may have any length; without, one group per length, since such a model numbers
 * every row's positions from the cache length. Confined to the engine thread.
 */
final class Batch implements AutoCloseable {
  /** Freshly prefilled sequences (the choices of one prompt) and the row of the prefill's cache they share. */
  record PrefilledRows(KvBlock prefill, int row, List<Sequence> sequences) {}

  private final ModelSpec spec;
  private final BufferPool pool;
  private final EngineMetrics metrics;
  private final List<BatchGroup> groups = new ArrayList<>();

  Batch(ModelSpec spec, BufferPool pool, EngineMetrics metrics) {
    this.spec = spec;
    this.pool = pool;
    this.metrics = metrics;
  }

  boolean isEmpty() {
    return groups.isEmpty();
  }

  /** The groups, to decode one step; a copy, since a failing group may leave the batch meanwhile. */
  List<BatchGroup> groups() {
    return List.copyOf(groups);
  }

  /** Rows holding a running sequence, over every group. */
  int runningRows() {
    int rows = 0;
    for (BatchGroup g : groups) {
      rows += g.running();
    }
    return rows;
  }

  /**
   * Adds newly prefilled sequences. A sequence takes over a free row in place when its prompt fits the group's
   * length: only its own cache is copied. Otherwise the group is rebuilt around it (every row copied, right-aligned
   * to the longest). Without position ids a sequence joins only the group of its own length.
   */
  void join(List<PrefilledRows> joins) {
    for (PrefilledRows j : joins) {
      int length = j.prefill().rowLength(j.row());
      BatchGroup target = null;
      for (BatchGroup g : groups) {
        if (spec.hasPositionIds() || g.length() == length) {
          target = g;
          break;
        }
      }
      List<Sequence> rest = new ArrayList<>();
      for (Sequence s : j.sequences()) {
        int slot = target != null && spec.hasPositionIds() && length <= target.length() ? target.freeSlot() : -1;
        if (slot >= 0) {
          metrics.cacheCopied(target.takeOver(slot, s, j.prefill(), j.row()));
        } else {
          rest.add(s);
        }
      }
      if (rest.isEmpty()) {
        continue;
      }
      // The choices of one prompt share its prefill row.
      List<KvBlock.Row> rows = rest.stream().map(s -> new KvBlock.Row(j.prefill(), j.row())).toList();
      if (target != null) {
        metrics.cacheCopied(target.rebuild(pool, rest, rows));
      } else {
        KvBlock merged = KvBlock.gather(spec, pool, rows);
        metrics.cacheCopied(merged.bytes());
        groups.add(new BatchGroup(merged, rest));
      }
    }
  }

  /**
   * Frees the rows of sequences that no longer run. A free row is taken over by the next sequence to join, so most
   * joins and leaves copy nothing but the newcomer's own cache. A group is rebuilt (every running row copied, padding
   * no row needs trimmed) when {@link BatchGroup#compactionDue} says so, and dropped when none of its rows runs.
   */
  void dropFinishedRows(boolean nobodyWaiting) {
    for (BatchGroup g : List.copyOf(groups)) {
      boolean freed = g.freeFinished();
      if (g.running() == 0) {
        groups.remove(g);
        g.close();
      } else if (g.compactionDue(spec.hasPositionIds(), freed, nobodyWaiting)) {
        metrics.cacheCopied(g.rebuild(pool, List.of(), List.of()));
      }
    }
  }

  @Override
  public void close() {
    groups.forEach(BatchGroup::close);
    groups.clear();
  }
}
