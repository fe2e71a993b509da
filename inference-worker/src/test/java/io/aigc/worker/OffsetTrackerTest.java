package io.aigc.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
  private final TopicPartition p0 = new TopicPartition("t", 0);
  private final TopicPartition p1 = new TopicPartition("t", 1);
  private final OffsetTracker tracker = new OffsetTracker();

  @Test
  void commitsOnlyBelowTheOldestUnfinishedRecord() {
    OffsetTracker.Ticket a = tracker.started(p0, 10);
    OffsetTracker.Ticket b = tracker.started(p0, 11);
    OffsetTracker.Ticket c = tracker.started(p0, 12);
    assertThat(tracker.committable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(10)));

    tracker.finished(c); // a short request overtakes the others
    tracker.finished(b);
    assertThat(tracker.committable()).isEmpty();

    tracker.finished(a);
    assertThat(tracker.committable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(13)));
    assertThat(tracker.committable()).isEmpty(); // nothing moved since
  }

  @Test
  void partitionsAreIndependent() {
    tracker.started(p0, 5);
    OffsetTracker.Ticket other = tracker.started(p1, 7);
    tracker.committable();
    tracker.finished(other);
    assertThat(tracker.committable()).containsExactly(Map.entry(p1, new OffsetAndMetadata(8)));
    assertThat(tracker.unfinished(p0)).isEqualTo(1);
  }

  @Test
  void ignoresFinishesFromBeforeARebalance() {
    OffsetTracker.Ticket stale = tracker.started(p0, 3);
    tracker.forget(List.of(p0));
    OffsetTracker.Ticket again = tracker.started(p0, 3); // the partition came back; the record is redone
    tracker.finished(stale);
    assertThat(tracker.unfinished(p0)).isEqualTo(1);
    tracker.finished(again);
    assertThat(tracker.committable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(4)));
  }
}
