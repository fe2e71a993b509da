package io.aigc.runtime;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A check that asks a broker something on a timer, on a daemon thread of its own: asking can take seconds, so
 * request handlers only ever read the check's last answer. A check that is still running when the next is due delays
 * it (fixed delay), so a slow broker cannot stack checks up.
 */
public final class PeriodicCheck implements AutoCloseable {
  private final ScheduledExecutorService timer;

  private PeriodicCheck(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /** Runs {@code check} after {@code firstDelay}, then every {@code interval}, on a thread named {@code name}. */
  public static PeriodicCheck start(String name, Duration firstDelay, Duration interval, Runnable check) {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(check, firstDelay.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    return new PeriodicCheck(timer);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
