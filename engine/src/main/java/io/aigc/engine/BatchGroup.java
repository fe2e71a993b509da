package io.aigc.engine;

import io.aigc.engine.RunningRequest.Sequence;
import java.util.ArrayList;
import java.util.List;

/**
 * Sequences decoded by one ONNX run, and their cache. A slot is a row of the cache; a null slot is free: the
 * sequence there finished, and the next one to join may take the row over in place. Confined to the engine thread.
 *
 * <p>Rows are right-aligned in the cache ({@link KvBlock}), so every row's next token goes at the same position,
 * padding before shorter rows hidden by the attention mask.
 */
final class BatchGroup implements AutoCloseable {
  private KvBlock kv;
  private Sequence[] slots;

  BatchGroup(KvBlock kv, List<Sequence> rows) {
    this.kv = kv;
    this.slots = rows.toArray(new Sequence[0]);
  }

  /** Positions per row, padding included: what every row of a step attends over. */
  int length() {
    return kv.length;
  }

  /** Rows, free ones included. */
  int rows() {
    return slots.length;
  }

  /** Rows holding a sequence. */
  int running() {
    int n = 0;
    for (Sequence s : slots) {
      if (s != null) {
        n++;
      }
    }
    return n;
  }

  Sequence slot(int row) {
    return slots[row];
  }

  /** A free row, or -1. */
  int freeSlot() {
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] == null) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Puts {@code s} in free row {@code slot}, copying only its own cache: row {@code srcRow} of {@code prefill}, which
   * must fit the group's length. Returns the bytes copied.
   */
  long takeOver(int slot, Sequence s, KvBlock prefill, int srcRow) {
    kv.overwriteRow(slot, prefill, srcRow);
    slots[slot] = s;
    return (long) prefill.rowLength(srcRow) * kv.spec.kvBytesPerToken();
  }

  /**
   * Rebuilds the group with its running rows followed by {@code newRows} (each its sequence and the cache row it
   * comes from): every row is copied, right-aligned to the longest. Returns the bytes copied.
   */
  long rebuild(BufferPool pool, List<Sequence> newSequences, List<KvBlock.Row> newRows) {
    List<KvBlock.Row> rows = new ArrayList<>();
    List<Sequence> sequences = new ArrayList<>();
    for (int r = 0; r < slots.length; r++) {
      if (slots[r] != null) {
        rows.add(new KvBlock.Row(kv, r));
        sequences.add(slots[r]);
      }
    }
    rows.addAll(newRows);
    sequences.addAll(newSequences);
    KvBlock merged = KvBlock.gather(kv.spec, pool, rows);
    kv.close();
    kv = merged;
    slots = sequences.toArray(new Sequence[0]);
    return merged.bytes();
  }

  /**
   * Runs one decode step: every running row's pending token, after the cache. A free row gets a dummy token and is
   * marked empty, so it attends only to itself until a sequence takes it. Returns each row's next-token logits.
   */
  float[][] step(DecoderModel model) throws DecoderModel.ModelException {
    int[] tokens = new int[slots.length];
    for (int r = 0; r < tokens.length; r++) {
      if (slots[r] != null) {
        tokens[r] = slots[r].pending();
      } else {
        kv.clearRow(r);
      }
    }
    DecoderModel.Forward forward = model.forward(tokens, 1, kv);
    kv.close();
    kv = forward.present();
    return forward.logits();
  }

  /** Frees the rows of sequences that no longer run; whether any was freed. */
  boolean freeFinished() {
    boolean freed = false;
    for (int r = 0; r < slots.length; r++) {
      if (slots[r] != null && !slots[r].running()) {
        slots[r] = null;
        freed = true;
      }
    }
    return freed;
  }

  /**
   * Whether the group should be rebuilt now (see {@link Batch#dropFinishedRows}): without position ids whenever a row
   * was freed; with them when more than a quarter of its rows are free and nobody waits to fill them, or when it has
   * grown past {@link #paddedLengthLimit} of its longest sequence.
   */
  boolean compactionDue(boolean positionIds, boolean freed, boolean nobodyWaiting) {
    if (!positionIds) {
      return freed;
    }
    int running = running();
    boolean idleRows = running < slots.length && (slots.length - running) * 4 > slots.length && nobodyWaiting;
    return idleRows || kv.length > paddedLengthLimit(longestRow());
  }

  /**
   * The longest a group may grow while its longest sequence is {@code longest}. A rebuild copies the cache once,
   * about what one step costs in memory traffic, while every step reads and rewrites the padding: trimming every
   * {@code longest / 4} steps keeps the padding near an eighth of the batch for about one copy in that many steps.
   */
  static int paddedLengthLimit(int longest) {
    return longest + Math.max(16, longest / 4);
  }

  private int longestRow() {
    int longest = 0;
    for (int r = 0; r < slots.length; r++) {
      if (slots[r] != null) {
        longest = Math.max(longest, kv.rowLength(r));
      }
    }
    return longest;
  }

  @Override
  public void close() {
    kv.close();
  }
}
