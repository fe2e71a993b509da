package io.aigc.worker;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which input offsets may be committed: those below the oldest record whose output is not yet acknowledged by the
 * broker. Records finish out of order (a short request overtakes a long one in the batch), so a partition's commit
 * point is its oldest unfinished offset, or one past the newest seen when none is unfinished.
 *
 * <p>This is the worker's half of exactly-once completions: an offset is committed only after the record's output
 * is durably in the generated topic, so a crash loses nothing; a record can be generated twice (its output written,
 * the crash before the commit), and the postprocessor keeps the first result per request id.
 *
 * <p>Thread-safe: records start on the consumer thread and finish on the producer's callback thread.
 */
final class OffsetTracker {
  /** A record in flight; finishing a ticket of a partition since given away and taken back is ignored. */
  record Ticket(TopicPartition partition, long offset, long epoch) {}

  private static final class PartitionState {
    final long epoch;
    final TreeSet<Long> unfinished = new TreeSet<>();
    long nextOffset = -1;
    long committed = -1;

    PartitionState(long epoch) {
      this.epoch = epoch;
    }

    long commitPoint() {
      return unfinished.isEmpty() ? nextOffset : unfinished.first();
    }
  }

  private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
  private long epochs;

  synchronized Ticket started(TopicPartition partition, long offset) {
    PartitionState state = partitions.computeIfAbsent(partition, p -> new PartitionState(++epochs));
    state.unfinished.add(offset);
    state.nextOffset = Math.max(state.nextOffset, offset + 1);
    return new Ticket(partition, offset, state.epoch);
  }

  synchronized void finished(Ticket ticket) {
    PartitionState state = partitions.get(ticket.partition());
    if (state != null && state.epoch == ticket.epoch()) {
      state.unfinished.remove(ticket.offset());
    }
  }

  /** Offsets to commit now: partitions whose commit point moved since the last call. */
  synchronized Map<TopicPartition, OffsetAndMetadata> committable() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    partitions.forEach((partition, state) -> {
      long point = state.commitPoint();
      if (point > state.committed) {
        offsets.put(partition, new OffsetAndMetadata(point));
        state.committed = point;
      }
    });
    return offsets;
  }

  /** Records of {@code partition} not yet finished. */
  synchronized int unfinished(TopicPartition partition) {
    PartitionState state = partitions.get(partition);
    return state == null ? 0 : state.unfinished.size();
  }

  /** Records not yet finished, over all partitions. */
  synchronized int unfinishedTotal() {
    int total = 0;
    for (PartitionState state : partitions.values()) {
      total += state.unfinished.size();
    }
    return total;
  }

  /** Forgets partitions given away in a rebalance; their late finishes are ignored. */
  synchronized void forget(Collection<TopicPartition> revoked) {
    revoked.forEach(partitions::remove);
  }
}
