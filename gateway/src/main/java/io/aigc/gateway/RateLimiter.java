package io.aigc.gateway;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket per caller: {@code rate} requests per second on average, up to {@code burst} at once.
 *
 * <p>Kept as the generic cell rate algorithm, which is the same bucket stored as one number: the "theoretical
 * arrival time" of the next request. A request is allowed when that time is at most {@code (burst - 1) / rate}
 * ahead of now, and moves it {@code 1 / rate} further. One {@link AtomicLong} per caller updated by compare-and-set:
 * no lock, no timer to refill, no allocation per request. The map of buckets is built once from the configured key
 * names, so it cannot grow with what clients send.
 */
final class RateLimiter {
  private final double rate;
  private final int burst;
  private final long intervalNanos;
  private final long toleranceNanos;
  private final LongSupplier nanoTime;
  private final Map<String, AtomicLong> buckets;

  /**
   * {@code rate} 0 means unlimited. {@code nanoTime} is {@link System#nanoTime} but for tests; only differences of
   * its values are used.
   */
  RateLimiter(Set<String> callers, double rate, int burst, LongSupplier nanoTime) {
    if (!(rate >= 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("rate must be a finite number >= 0, got " + rate);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be at least 1, got " + burst);
    }
    this.rate = rate;
    this.burst = burst;
    this.intervalNanos = rate == 0 ? 0 : Math.max(1, Math.round(1e9 / rate));
    // Saturated far from overflow: differences of nanoTime values must stay meaningful.
    this.toleranceNanos = (long) Math.min(Long.MAX_VALUE / 4.0, (double) intervalNanos * (burst - 1L));
    this.nanoTime = nanoTime;
    long now = nanoTime.getAsLong();
    Map<String, AtomicLong> buckets = new HashMap<>();
    // A full bucket at start: the first `burst` requests pass at once.
    callers.forEach(caller -> buckets.put(caller, new AtomicLong(now)));
    this.buckets = Map.copyOf(buckets);
  }

  /**
   * Takes one request from {@code caller}'s bucket. Returns 0 when the request may go ahead, else how many
   * nanoseconds until it would (nothing is taken then). An unknown caller is never limited here: callers are
   * authenticated before they are counted.
   */
  long acquire(String caller) {
    AtomicLong arrival = intervalNanos == 0 ? null : buckets.get(caller);
    if (arrival == null) {
      return 0;
    }
    while (true) {
      long now = nanoTime.getAsLong();
      long theoretical = arrival.get();
      // A bucket idle for long refills to full, not beyond: the next arrival time is never earlier than now.
      long base = theoretical - now > 0 ? theoretical : now;
      long wait = (base - now) - toleranceNanos;
      if (wait > 0) {
        return wait;
      }
      if (arrival.compareAndSet(theoretical, base + intervalNanos)) {
        return 0;
      }
    }
  }

  /** Requests per second per caller, on average; 0 is unlimited. */
  double rate() {
    return rate;
  }

  /** Requests a caller may send at once after being idle. */
  int burst() {
    return burst;
  }
}
