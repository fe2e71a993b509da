package io.aigc.model.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A clock a test moves forward, for code that takes a {@link Clock}: timeouts and expiries without waiting. */
public final class MovableClock extends Clock {
  private final AtomicReference<Instant> now;

  /** Starting at the real time, so that timestamps made with it look normal. */
  public MovableClock() {
    this(Instant.now());
  }

  public MovableClock(Instant start) {
    this.now = new AtomicReference<>(start);
  }

  public void advance(Duration by) {
    now.updateAndGet(t -> t.plus(by));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneOffset getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
