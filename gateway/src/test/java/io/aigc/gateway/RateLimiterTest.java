package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private static final long SECOND = 1_000_000_000L;
  // Far from zero, and near overflow, because only differences of nanoTime values mean anything.
  private final AtomicLong clock = new AtomicLong(Long.MAX_VALUE - 3 * SECOND);

  @Test
  void aBurstPassesThenTheRateHolds() {
    RateLimiter limiter = new RateLimiter(Set.of("alice"), 2, 3, clock::get);
    assertThat(limiter.acquire("alice")).isZero();
    assertThat(limiter.acquire("alice")).isZero();
    assertThat(limiter.acquire("alice")).isZero();
    // The fourth waits for one token: half a second at 2 per second.
    assertThat(limiter.acquire("alice")).isEqualTo(SECOND / 2);
    clock.addAndGet(SECOND / 4);
    assertThat(limiter.acquire("alice")).isEqualTo(SECOND / 4);
    clock.addAndGet(SECOND / 4);
    assertThat(limiter.acquire("alice")).isZero();
    assertThat(limiter.acquire("alice")).isEqualTo(SECOND / 2);
  }

  @Test
  void aRefusedRequestTakesNothing() {
    RateLimiter limiter = new RateLimiter(Set.of("alice"), 1, 1, clock::get);
    assertThat(limiter.acquire("alice")).isZero();
    for (int i = 0; i < 100; i++) {
      assertThat(limiter.acquire("alice")).isEqualTo(SECOND);
    }
    clock.addAndGet(SECOND);
    assertThat(limiter.acquire("alice")).isZero();
  }

  @Test
  void anIdleBucketRefillsToItsBurstAndNoFurther() {
    RateLimiter limiter = new RateLimiter(Set.of("alice"), 10, 5, clock::get);
    clock.addAndGet(3600 * SECOND);
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.acquire("alice")).isZero();
    }
    assertThat(limiter.acquire("alice")).isPositive();
  }

  @Test
  void eachCallerHasItsOwnBucket() {
    RateLimiter limiter = new RateLimiter(Set.of("alice", "bob"), 1, 1, clock::get);
    assertThat(limiter.acquire("alice")).isZero();
    assertThat(limiter.acquire("alice")).isPositive();
    assertThat(limiter.acquire("bob")).isZero();
  }

  @Test
  void zeroRateIsUnlimited() {
    RateLimiter limiter = new RateLimiter(Set.of("alice"), 0, 1, clock::get);
    for (int i = 0; i < 10_000; i++) {
      assertThat(limiter.acquire("alice")).isZero();
    }
  }

  @Test
  void concurrentCallersNeverGetMoreThanTheBurst() throws Exception {
    // The clock stands still: exactly `burst` of all the concurrent attempts may pass.
    RateLimiter limiter = new RateLimiter(Set.of("alice"), 1, 50, clock::get);
    AtomicLong passed = new AtomicLong();
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] = new Thread(() -> {
        for (int i = 0; i < 1000; i++) {
          if (limiter.acquire("alice") == 0) {
            passed.incrementAndGet();
          }
        }
      });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(passed.get()).isEqualTo(50);
  }
}
