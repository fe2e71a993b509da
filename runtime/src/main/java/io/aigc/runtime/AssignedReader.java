package io.aigc.runtime;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer without a group ({@code assign}, nothing committed) polled on a thread of its own: what every instance
 * of a service reads for itself, as opposed to sharing a topic's partitions with its group. {@link BroadcastReader}
 * reads a whole topic this way, the gateway's stream feed one partition.
 *
 * <p>Which partitions, and from where, is the {@link Positioning}'s business. It runs once in {@link #start()}, so
 * nothing written after that returns is missed, and again on the reader's thread: every {@link #RETRY} while it has
 * nothing to read, every {@code recheck} after that (partitions added to the topic). Failures never end the thread:
 * the client retries connections by itself, and what reaches the loop (an authorization error, a fenced position, a
 * partition that does not exist) is logged and retried, the reader meanwhile reported unhealthy.
 */
public final class AssignedReader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AssignedReader.class);
  private static final Duration POLL = Duration.ofMillis(200);
  /** How soon a reader without partitions, or one whose poll failed, tries again. */
  private static final Duration RETRY = Duration.ofSeconds(1);
  /** How soon a configuration the topic cannot satisfy is tried again: it changes only with the topic. */
  private static final Duration MISCONFIGURED_RETRY = Duration.ofSeconds(30);

  /** Assigns and positions the consumer; called on the reader's thread after {@link #start()}. */
  public interface Positioning {
    /**
     * Returns whether the consumer has partitions to poll. May throw {@link KafkaException}, or
     * {@link IllegalArgumentException} for a configuration the topic cannot satisfy (its message is logged).
     */
    boolean position(Consumer<byte[], byte[]> consumer);
  }

  /** Receives each poll's records (never an empty batch), on the reader's thread; must not block for long. */
  public interface Handler {
    void records(ConsumerRecords<byte[], byte[]> records);
  }

  private final Consumer<byte[], byte[]> consumer;
  private final String topic;
  private final Positioning positioning;
  private final long recheckNanos;
  private final Handler handler;
  private final Thread thread;
  private boolean positioned;
  private volatile boolean running = true;
  private volatile boolean healthy = true;

  /**
   * @param topic named in log lines
   * @param recheck how often {@code positioning} runs again once it has partitions
   */
  public AssignedReader(Map<String, Object> consumerConfig, String topic, Positioning positioning, Duration recheck,
      Handler handler, String threadName) {
    this.consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.topic = topic;
    this.positioning = positioning;
    this.recheckNanos = recheck.toNanos();
    this.handler = handler;
    this.thread = new Thread(this::run, threadName);
    this.thread.setDaemon(true);
  }

  /**
   * Positions the consumer before returning, so no record written from now on can be missed, then starts reading.
   * If the topic cannot be read yet, the thread keeps trying. An {@link IllegalArgumentException} from the
   * positioning is thrown here: a configuration error is the caller's to report at start.
   */
  public void start() {
    try {
      positioned = positioning.position(consumer);
    } catch (KafkaException e) {
      log.warn("topic {} not readable yet ({}); will keep trying", topic, e.toString());
    }
    thread.start();
  }

  /** The thread runs and its last poll succeeded. */
  public boolean healthy() {
    return thread.isAlive() && healthy;
  }

  private void run() {
    long nextPositioning = System.nanoTime() + recheckNanos;
    try {
      while (running) {
        try {
          if (!positioned || System.nanoTime() - nextPositioning >= 0) {
            positioned = positioning.position(consumer);
            nextPositioning = System.nanoTime() + recheckNanos;
          }
          if (!positioned) {
            // Nothing to poll until the topic is there (polling an empty assignment is an error).
            Thread.sleep(RETRY.toMillis());
            continue;
          }
          ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
          healthy = true;
          if (!records.isEmpty()) {
            handler.records(records);
          }
        } catch (WakeupException e) {
          // close() asked us to stop; the loop condition says so.
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (IllegalArgumentException e) {
          healthy = false;
          log.error("cannot read {}: {}", topic, e.getMessage());
          nextPositioning = pause(MISCONFIGURED_RETRY);
        } catch (KafkaException e) {
          healthy = false;
          log.warn("reading {} failed; retrying: {}", topic, e.toString());
          nextPositioning = pause(RETRY);
        }
      }
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** Waits {@code duration} and returns when to position again: now. */
  private static long pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return System.nanoTime();
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    if (thread.isAlive()) {
      try {
        thread.join(Duration.ofSeconds(10).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      // Never started (start() failed before the thread ran): the consumer is still ours to close.
      consumer.close(Duration.ZERO);
    }
  }
}
