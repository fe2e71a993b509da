package io.aigc.gateway;

import io.aigc.schemas.StreamEvent;
import io.vertx.core.Context;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What a request waiting on its job holds, whether it is answered whole or streamed: its listeners on the stream
 * feed and on the job store, the events that came before the job was accepted, and a timer. All of it is released
 * once, when the request settles. Used on the request's context; the listeners hop to it.
 */
final class JobWatch {
  private static final Runnable NOTHING = () -> { };

  private final RoutingContext ctx;
  private final Context context;
  private final String id;
  private List<StreamEvent> early = new ArrayList<>();
  private boolean started;
  private boolean settled;
  private long timer = -1;
  private Runnable stopEvents = NOTHING;
  private Runnable stopCompletion = NOTHING;

  JobWatch(RoutingContext ctx, String id) {
    this.ctx = ctx;
    this.context = ctx.vertx().getOrCreateContext();
    this.id = id;
  }

  /** Listens for the job's events; call before its request is published, so that none passes unseen. */
  void listen(StreamFeed feed, Consumer<List<StreamEvent>> onEvents) {
    stopEvents = feed.listen(id, events -> context.runOnContext(v -> onEvents.accept(events)));
  }

  /** The job is accepted: listens for its completion too, and returns the events {@link #holds held} till now. */
  List<StreamEvent> start(JobStore store, Consumer<JobStore.Job> onCompletion) {
    started = true;
    stopCompletion = store.onCompletion(id, done -> context.runOnContext(v -> onCompletion.accept(done)));
    List<StreamEvent> before = early;
    early = null;
    return before;
  }

  /** Keeps {@code events} for {@link #start} when the job is not accepted yet; says whether it did. */
  boolean holds(List<StreamEvent> events) {
    if (started) {
      return false;
    }
    early.addAll(events);
    return true;
  }

  /** Runs {@code then} in {@code delayMs} (at least 1), unless the request settles first; replaces the last timer. */
  void timer(long delayMs, Runnable then) {
    timer = ctx.vertx().setTimer(Math.max(1, delayMs), t -> then.run());
  }

  boolean settled() {
    return settled;
  }

  /**
   * Settles the request: releases the listeners and the timer. True the first time only; the caller then writes
   * its outcome unless the client has left ({@link #clientGone()}).
   */
  boolean settle() {
    if (settled) {
      return false;
    }
    settled = true;
    if (timer >= 0) {
      ctx.vertx().cancelTimer(timer);
    }
    stopEvents.run();
    stopCompletion.run();
    early = null;
    return true;
  }

  boolean clientGone() {
    return ctx.response().closed();
  }
}
