package io.aigc.gateway;

import io.aigc.runtime.PeriodicCheck;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many requests wait in the pipeline, so the gateway stops taking new ones when the pipeline is far behind
 * instead of queueing work nobody will wait for. Read from Kafka on a timer on a thread of its own (asking the
 * broker takes round trips, never the event loop's time); handlers only read the last {@link State}.
 *
 * <p>The backlog is the consumer lag of the stages that queue work: the requests topic's end offsets minus the
 * tokenizer group's committed offsets, plus, for each served model's worker pool, its tokenized topic's end offsets
 * minus its group's. A partition
 * a group has not committed yet counts from its earliest offset, which is where such a group starts. End offsets
 * are read {@code read_committed}: records of an open transaction are not work anyone can see yet. Each commit
 * marker of the tokenizer's transactions takes an offset, so the backlog may read up to one too high per tokenized
 * partition; against a bound in the thousands, that is noise.
 *
 * <p>Past {@code max}, new requests are refused (429) until a check finds the backlog at or under it again. The
 * {@code Retry-After} is the time the pipeline needs, at the rate it drained recently, to come back under the
 * bound, plus one check interval; between 1 and {@value #MAX_RETRY_AFTER_SECONDS} seconds, the most when it is not
 * draining at all. When the check fails (broker unreachable, no permission to describe the groups), the backlog is
 * unknown and does not refuse anything: the in-flight bound and {@code /readyz} still do their part.
 */
final class Backlog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Backlog.class);
  static final int MAX_RETRY_AFTER_SECONDS = 30;
  /** Weight of the latest interval in the drain rate: recent enough to follow the pipeline, smooth enough. */
  private static final double RATE_WEIGHT = 0.5;

  /** The last check's answer. {@code backlog} is -1 when unknown. */
  record State(long backlog, boolean overloaded, int retryAfterSeconds) {
    static final State UNKNOWN = new State(-1, false, 0);
  }

  /**
   * One stage's consumer group at the last check: its lag (records not yet consumed) and its members (-1 when
   * unknown). Exported as {@code aigc_consumer_lag} and {@code aigc_consumer_group_members}: measured here, outside
   * the stage, so a stage with no consumer left still shows its lag.
   */
  record StageLag(String stage, String group, long lag, int members) {}
  /** Requests waiting per stage at the last check, for the playground's pipeline panel; null fields when unknown. */
  record Lag(Long tokenizer, Long worker) {
    static final Lag UNKNOWN = new Lag(null, null);
  }

  /** Cumulative counts at one check; only their differences between checks matter. */
  record Measurement(long backlog, long tokenizerConsumed, long tokenizedEnd, long workerConsumed, long nanos,
      long tokenizerLag, Map<String, Long> workerLagByGroup) {
    /** Requests that left the backlog since {@code earlier}: taken by a worker, or dropped by the tokenizer. */
    long drainedSince(Measurement earlier) {
      long worker = workerConsumed - earlier.workerConsumed;
      // What the tokenizer consumed without forwarding (it answered with an error instead) left the backlog too.
      long dropped = (tokenizerConsumed - earlier.tokenizerConsumed) - (tokenizedEnd - earlier.tokenizedEnd);
      return Math.max(0, worker) + Math.max(0, dropped);
    }
  }

  private final Admin admin;
  private final Pipeline pipeline;
  private final long max;
  private final Duration interval;
  private PeriodicCheck timer;
  private volatile State state = State.UNKNOWN;
  private volatile List<StageLag> stages = List.of();
  /**
   * When the measurement behind {@link #state} began ({@link System#nanoTime}), {@link Long#MIN_VALUE} before the
   * first; written before the state.
   */
  private volatile long measuredAtNanos = Long.MIN_VALUE;
  private volatile Lag lag = Lag.UNKNOWN;
  // Only the timer's thread touches these.
  private Measurement previous;
  private double drainPerSecond = Double.NaN;
  private String lastFailure;

  /**
   * What the backlog is measured over: the requests topic, read by the tokenizer's group, and each model's tokenized
   * topic ({@code pools}' keys), read by its worker pool's group.
   */
  record Pipeline(String requestsTopic, String tokenizerGroup, Map<String, String> pools) {
    Pipeline {
      if (pools.containsValue(tokenizerGroup)) {
        throw new IllegalArgumentException("the tokenizer and worker groups must differ, both are " + tokenizerGroup);
      }
      pools = Map.copyOf(pools);
    }
  }

  Backlog(Admin admin, Pipeline pipeline, long max, Duration interval) {
    this.admin = admin;
    this.pipeline = pipeline;
    this.max = max;
    this.interval = interval;
  }

  /** Checks every {@code interval}, the first time at once, in the background. */
  void start() {
    timer = PeriodicCheck.start("gateway-backlog", Duration.ZERO, interval, this::check);
  }

  State state() {
    return state;
  }

  /** The stages' lag at the last check; empty when unknown. */
  List<StageLag> stages() {
    return stages;
  }

  /**
   * When the measurement behind the current {@link #state()} began: records put on the topics before then are in
   * it, later ones may not be. Read it before the state, so the pair is never newer than the state.
   */
  long measuredAtNanos() {
    return measuredAtNanos;
  }

  /** Requests waiting per stage at the last check (every model's pools summed). */
  Lag lag() {
    return lag;
  }

  private void check() {
    Measurement now;
    try {
      now = measure();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      String why = e.toString();
      if (!why.equals(lastFailure)) {
        log.warn("cannot read the pipeline's backlog ({}); not refusing requests on it until I can", why);
        lastFailure = why;
      }
      previous = null;
      state = State.UNKNOWN;
      stages = List.of();
      lag = Lag.UNKNOWN;
      return;
    }
    if (lastFailure != null) {
      log.info("reading the pipeline's backlog again: {} requests", now.backlog());
      lastFailure = null;
    }
    if (previous != null && now.nanos() > previous.nanos()) {
      double seconds = (now.nanos() - previous.nanos()) / 1e9;
      double rate = now.drainedSince(previous) / seconds;
      drainPerSecond = Double.isNaN(drainPerSecond) ? rate : RATE_WEIGHT * rate + (1 - RATE_WEIGHT) * drainPerSecond;
    }
    previous = now;
    Map<String, Integer> members = members();
    List<StageLag> measured = new ArrayList<>();
    String tokenizerGroup = pipeline.tokenizerGroup();
    measured.add(
        new StageLag("tokenizer", tokenizerGroup, now.tokenizerLag(), members.getOrDefault(tokenizerGroup, -1)));
    now.workerLagByGroup().forEach((group, lag) ->
        measured.add(new StageLag("worker", group, lag, members.getOrDefault(group, -1))));
    stages = List.copyOf(measured);
    measuredAtNanos = now.nanos();
    State before = state;
    state = next(now.backlog(), max, drainPerSecond, interval);
    if (state.overloaded() && !before.overloaded()) {
      log.warn("the pipeline's backlog of {} requests is over AIGC_MAX_BACKLOG ({}): new requests get 429 until it "
          + "drains", now.backlog(), max);
    } else if (!state.overloaded() && before.overloaded()) {
      log.info("the pipeline's backlog is down to {} requests (AIGC_MAX_BACKLOG {}): accepting new requests again",
          now.backlog(), max);
    }
  }

  /** The decision for a measured backlog; {@code drainPerSecond} is NaN when not known yet. */
  static State next(long backlog, long max, double drainPerSecond, Duration interval) {
    if (backlog <= max) {
      return new State(backlog, false, 0);
    }
    double seconds = drainPerSecond > 0
        ? (backlog - max) / drainPerSecond + interval.toMillis() / 1000.0
        : MAX_RETRY_AFTER_SECONDS;
    int retryAfter = (int) Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, Math.ceil(seconds)));
    return new State(backlog, true, retryAfter);
  }

  private Measurement measure() throws Exception {
    // Bounded by the interval, so a slow broker cannot stack checks up.
    int timeoutMs = (int) Math.max(1000, Math.min(interval.toMillis(), 10_000));
    long nanos = System.nanoTime();
    List<String> names = new ArrayList<>(pipeline.pools().keySet());
    names.add(pipeline.requestsTopic());
    Map<String, TopicDescription> topics = admin.describeTopics(names,
        new DescribeTopicsOptions().timeoutMs(timeoutMs)).allTopicNames().get(timeoutMs, TimeUnit.MILLISECONDS);
    List<TopicPartition> requests = partitions(topics.get(pipeline.requestsTopic()));
    Map<String, List<TopicPartition>> tokenized = new HashMap<>();
    pipeline.pools().forEach((topic, group) -> tokenized.put(group, partitions(topics.get(topic))));

    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    for (TopicPartition tp : concat(requests, tokenized.values().stream().flatMap(List::stream).toList())) {
      latest.put(tp, OffsetSpec.latest());
      earliest.put(tp, OffsetSpec.earliest());
    }
    // The three lookups go out together; each is bounded by the same timeout.
    var ends = admin.listOffsets(latest,
        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED).timeoutMs(timeoutMs)).all();
    var starts = admin.listOffsets(earliest, new ListOffsetsOptions().timeoutMs(timeoutMs)).all();
    Map<String, ListConsumerGroupOffsetsSpec> specs = new HashMap<>();
    specs.put(pipeline.tokenizerGroup(), new ListConsumerGroupOffsetsSpec().topicPartitions(requests));
    tokenized.forEach((group, partitions) ->
        specs.put(group, new ListConsumerGroupOffsetsSpec().topicPartitions(partitions)));
    var committed = admin.listConsumerGroupOffsets(specs, new ListConsumerGroupOffsetsOptions().timeoutMs(timeoutMs));
    Map<TopicPartition, ListOffsetsResultInfo> end = ends.get(timeoutMs, TimeUnit.MILLISECONDS);
    Map<TopicPartition, ListOffsetsResultInfo> start = starts.get(timeoutMs, TimeUnit.MILLISECONDS);
    Map<TopicPartition, OffsetAndMetadata> tokenizerOffsets =
        committed.partitionsToOffsetAndMetadata(pipeline.tokenizerGroup()).get(timeoutMs, TimeUnit.MILLISECONDS);
    // Each pool's offsets are its own group's: the topics differ, so one map holds them all.
    Map<TopicPartition, OffsetAndMetadata> workerOffsets = new HashMap<>();
    for (String group : tokenized.keySet()) {
      workerOffsets.putAll(committed.partitionsToOffsetAndMetadata(group).get(timeoutMs, TimeUnit.MILLISECONDS));
    }

    long tokenizerLag = 0;
    long workerLag = 0;
    Map<String, Long> workerLagByGroup = new TreeMap<>();
    long tokenizerConsumed = 0;
    long workerConsumed = 0;
    long tokenizedEnd = 0;
    for (TopicPartition tp : requests) {
      long position = position(tokenizerOffsets.get(tp), start.get(tp).offset(), end.get(tp).offset());
      tokenizerLag += end.get(tp).offset() - position;
      tokenizerConsumed += position;
    }
    for (Map.Entry<String, List<TopicPartition>> pool : tokenized.entrySet()) {
      long poolLag = 0;
      for (TopicPartition tp : pool.getValue()) {
        long position = position(workerOffsets.get(tp), start.get(tp).offset(), end.get(tp).offset());
        poolLag += end.get(tp).offset() - position;
        workerConsumed += position;
        tokenizedEnd += end.get(tp).offset();
      }
      workerLagByGroup.put(pool.getKey(), poolLag);
      workerLag += poolLag;
    }
    lag = new Lag(tokenizerLag, workerLag);
    return new Measurement(tokenizerLag + workerLag, tokenizerConsumed, tokenizedEnd, workerConsumed, nanos,
        tokenizerLag, workerLagByGroup);
  }

  /** Members of each group; a group that cannot be described is left out (its count is unknown, not zero). */
  private Map<String, Integer> members() {
    int timeoutMs = (int) Math.max(1000, Math.min(interval.toMillis(), 10_000));
    Map<String, Integer> members = new HashMap<>();
    List<String> groups = new ArrayList<>(pipeline.pools().values());
    groups.add(pipeline.tokenizerGroup());
    var described = admin.describeConsumerGroups(groups,
        new DescribeConsumerGroupsOptions().timeoutMs(timeoutMs)).describedGroups();
    described.forEach((group, future) -> {
      try {
        members.put(group, future.get(timeoutMs, TimeUnit.MILLISECONDS).members().size());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        log.debug("cannot describe group {}: {}", group, e.toString());
      }
    });
    return members;
  }

  /**
   * Where a group will read a partition from: its committed offset, or the earliest offset when it has none; never
   * before the earliest (older records are deleted, not waiting) nor past the end.
   */
  private static long position(OffsetAndMetadata committed, long earliest, long end) {
    long position = committed == null ? earliest : committed.offset();
    return Math.max(earliest, Math.min(end, position));
  }

  private static List<TopicPartition> partitions(TopicDescription topic) {
    return topic.partitions().stream().map(p -> new TopicPartition(topic.name(), p.partition())).toList();
  }

  private static List<TopicPartition> concat(List<TopicPartition> a, List<TopicPartition> b) {
    return Stream.concat(a.stream(), b.stream()).toList();
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.close();
    }
  }
}
