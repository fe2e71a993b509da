package io.aigc.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed-loop load: {@code clients} callers, each sending its next request as soon as the previous one returns,
 * as a fixed number of users or upstream consumers would. Only requests that finish inside the measurement window
 * (after a warm-up) count, and client starts are staggered so they do not move in lockstep.
 */
final class ClosedLoop {
  /** One request: returns how many tokens it generated and an id to join other measurements on. */
  interface Call {
    Result call() throws Exception;
  }

  record Result(int tokens, String id) {}

  /** A finished request, times in nanoseconds of {@link System#nanoTime()}. */
  record Done(long start, long end, int tokens, String id) {
    double latencyMs() {
      return (end - start) / 1e6;
    }
  }

  /** What one level of load measured. */
  record Measurement(int clients, double seconds, List<Done> done) {
    double tokensPerSecond() {
      return done.stream().mapToLong(Done::tokens).sum() / seconds;
    }

    double requestsPerSecond() {
      return done.size() / seconds;
    }

    double latencyMs(double percentile) {
      return Stats.percentile(done.stream().map(Done::latencyMs).toList(), percentile);
    }
  }

  private ClosedLoop() {}

  /**
   * Runs {@code clients} callers for {@code warmup + window} (then lets requests in flight finish) and keeps the
   * requests that ended inside the window. {@code requestTime} estimates one request, to stagger the starts.
   */
  static Measurement run(int clients, Duration warmup, Duration window, Duration requestTime, Call call)
      throws InterruptedException {
    long start = System.nanoTime();
    long windowStart = start + warmup.toNanos();
    long windowEnd = windowStart + window.toNanos();
    List<Done> done = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<Exception> failure = new AtomicReference<>();
    CountDownLatch finished = new CountDownLatch(clients);
    long stagger = requestTime.toNanos() / clients;
    for (int c = 0; c < clients; c++) {
      long delay = c * stagger;
      Thread client = new Thread(() -> {
        try {
          sleepNanos(delay);
          while (System.nanoTime() < windowEnd && failure.get() == null) {
            long t0 = System.nanoTime();
            Result r = call.call();
            long t1 = System.nanoTime();
            if (t1 >= windowStart && t1 <= windowEnd) {
              done.add(new Done(t0, t1, r.tokens(), r.id()));
            }
          }
        } catch (Exception e) {
          failure.compareAndSet(null, e);
        } finally {
          finished.countDown();
        }
      }, "load-" + c);
      client.setDaemon(true);
      client.start();
    }
    finished.await();
    if (failure.get() != null) {
      throw new IllegalStateException("a request failed during the benchmark: " + failure.get(), failure.get());
    }
    return new Measurement(clients, window.toNanos() / 1e9, List.copyOf(done));
  }

  private static void sleepNanos(long nanos) throws InterruptedException {
    if (nanos > 0) {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)); // a load generator's pacing, not a test wait
    }
  }
}
