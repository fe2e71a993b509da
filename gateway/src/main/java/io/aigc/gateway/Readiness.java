package io.aigc.gateway;

import io.aigc.runtime.PeriodicCheck;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the gateway can do its work: the broker answers, all its topics exist, and completions and stream events
 * are being read.
 * Checked on a timer on a thread of its own, because asking the broker can take seconds; {@code /readyz} only reads
 * the last answer.
 */
final class Readiness implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Readiness.class);

  private final Admin admin;
  private final List<String> topics;
  private final BooleanSupplier feedHealthy;
  private final Duration interval;
  private PeriodicCheck timer;
  private volatile boolean ready;
  private boolean checked;

  Readiness(Admin admin, List<String> topics, BooleanSupplier feedHealthy, Duration interval) {
    this.admin = admin;
    this.topics = List.copyOf(topics);
    this.feedHealthy = feedHealthy;
    this.interval = interval;
  }

  /** Checks once now, on the caller's thread, then every {@code interval} in the background. */
  void start() {
    check();
    timer = PeriodicCheck.start("gateway-readiness", interval, interval, this::check);
  }

  boolean ready() {
    return ready;
  }

  private void check() {
    boolean now;
    String why = "";
    try {
      // Bounded by the interval, so a slow broker cannot stack checks up.
      long timeoutMs = Math.max(1000, Math.min(interval.toMillis(), 10_000));
      Set<String> existing = admin.listTopics(new ListTopicsOptions().timeoutMs((int) timeoutMs)).names()
          .get(timeoutMs, TimeUnit.MILLISECONDS);
      List<String> missing = topics.stream().filter(t -> !existing.contains(t)).toList();
      now = missing.isEmpty() && feedHealthy.getAsBoolean();
      why = !missing.isEmpty() ? "missing topics " + missing
          : now ? "" : "completions or stream events are not being read";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      now = false;
      why = "broker unreachable: " + e;
    }
    if (!checked || now != ready) {
      if (now) {
        log.info("gateway ready");
      } else {
        log.warn("gateway not ready: {}", why);
      }
    }
    ready = now;
    checked = true;
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.close();
    }
  }
}
