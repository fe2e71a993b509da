package io.aigc.gateway;

import io.aigc.schemas.RequestRules;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The jobs this gateway knows: the ones it accepted, and every completion it read (another instance may have
 * accepted that job). Bounded: past {@code capacity} jobs the oldest is evicted, except jobs still holding an
 * in-flight slot, which are bounded by {@code maxInFlight} instead.
 *
 * <p>A job accepted here holds one of {@code maxInFlight} slots from {@link #admit} until its completion arrives
 * (or it is {@linkplain #abandon abandoned}, or {@linkplain #releaseStale released} as stale), whether a client is
 * waiting for it synchronously or will poll for it. That is the gateway's back-pressure.
 *
 * <p>Every job has an owner: the name of the API key that created it ({@link RequestRules#API_KEY_NAME} in its
 * request's metadata, or in its completion's for a job read back from the completions topic), null without keys.
 * {@link #find(String, String)} shows a job to its owner only.
 *
 * <p>Thread-safe: HTTP handlers call it from the event loop, the completions consumer from its own thread.
 * Listeners are called without the lock held, on the thread that completes the job; callers hop back onto their
 * own context.
 */
final class JobStore {
  enum Status { QUEUED, DONE, FAILED }

  /**
   * What a client can learn about a job. The completion is null while it is queued, the owner without keys, the
   * model when the job is known only from its completion and that does not say. {@code chat}: its answer is a chat
   * completion (a conversation accepted here, or a job known only from its completion that says so, or whose id is
   * a chat one: completions written before Completion v4 do not say).
   */
  record Job(String id, String owner, Instant created, Status status, Completion completion, String model,
      boolean chat) {}

  sealed interface Admission permits Accepted, Existing, Conflict, Full {}

  /** A new job, holding an in-flight slot: publish it, then call {@link #published} or {@link #abandon}. */
  record Accepted(Job job) implements Admission {}

  /** The job is already known with the same request; {@code published} completes once it is safely queued. */
  record Existing(Job job, CompletionStage<Void> published) implements Admission {}

  /** The job is known with a different request (or another owner). */
  record Conflict(Job job) implements Admission {}

  /** Every in-flight slot is taken. */
  record Full(int limit) implements Admission {}

  private static final class Entry {
    final String id;
    final String owner;
    final Instant created;
    /** The request as accepted here; null for a job known only from its completion. */
    final RequestSpec request;
    final CompletableFuture<Void> published;
    boolean holdsSlot;
    Completion completion;
    List<Consumer<Job>> listeners;

    /**
     * A job accepted here ({@code request} not null) holds an in-flight slot until its completion and waits to be
     * published; one known only from its completion (another gateway's, or accepted before a restart) does neither.
     */
    Entry(String id, String owner, Instant created, RequestSpec request) {
      this.id = id;
      this.owner = owner;
      this.created = created;
      this.request = request;
      this.published = request != null ? new CompletableFuture<>() : CompletableFuture.completedFuture(null);
      this.holdsSlot = request != null;
    }

    Job snapshot() {
      Status status = completion == null ? Status.QUEUED
          : completion.getStatus() == CompletionStatus.OK ? Status.DONE : Status.FAILED;
      String model = request != null ? request.model() : completion != null ? completion.getModel() : null;
      boolean chat = request != null ? request.isChat()
          : completion != null && completion.getChat() || id.startsWith(ResponseFormat.CHAT.idPrefix());
      return new Job(id, owner, created, status, completion, model, chat);
    }

    boolean evictable() {
      return !holdsSlot && (listeners == null || listeners.isEmpty());
    }
  }

  private final int capacity;
  private final int maxInFlight;
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
  private int inFlight;

  JobStore(int capacity, int maxInFlight) {
    if (capacity < maxInFlight) {
      throw new IllegalArgumentException("capacity " + capacity + " must be at least maxInFlight " + maxInFlight);
    }
    this.capacity = capacity;
    this.maxInFlight = maxInFlight;
  }

  /**
   * Registers job {@code id} for {@code request} unless it is already known (a retry: never published twice from
   * here) or every in-flight slot is taken.
   */
  synchronized Admission admit(String id, RequestSpec request, Instant created) {
    Entry existing = entries.get(id);
    if (existing != null) {
      if (!Objects.equals(existing.owner, request.owner())
          || existing.request != null && !existing.request.equals(request)) {
        return new Conflict(existing.snapshot());
      }
      return new Existing(existing.snapshot(), existing.published.minimalCompletionStage());
    }
    if (inFlight >= maxInFlight) {
      return new Full(maxInFlight);
    }
    Entry entry = new Entry(id, request.owner(), created, request);
    entries.put(id, entry);
    inFlight++;
    evictOverCapacity();
    return new Accepted(entry.snapshot());
  }

  /** The job's request is on the requests topic: retries that waited for it may answer now. */
  void published(String id) {
    Entry entry;
    synchronized (this) {
      entry = entries.get(id);
    }
    if (entry != null) {
      entry.published.complete(null);
    }
  }

  /** Publishing failed: forget the job (unless its completion somehow arrived) and free its slot. */
  void abandon(String id, Throwable cause) {
    Entry entry;
    synchronized (this) {
      entry = entries.get(id);
      if (entry == null) {
        return;
      }
      if (entry.completion == null) {
        entries.remove(id);
        releaseSlot(entry);
      }
    }
    entry.published.completeExceptionally(cause);
  }

  synchronized Optional<Job> find(String id) {
    Entry entry = entries.get(id);
    return entry == null ? Optional.empty() : Optional.of(entry.snapshot());
  }

  /**
   * The job, when {@code caller} owns it (null: the anonymous caller without keys). Another caller's job is as
   * absent as an unknown one, so its existence does not leak.
   */
  synchronized Optional<Job> find(String id, String caller) {
    return find(id).filter(job -> Objects.equals(job.owner(), caller));
  }

  /**
   * Calls {@code listener} once with the job when its completion arrives (at once, if it has). Returns what
   * cancels the listening. An unknown job's listener is never called.
   */
  Runnable onCompletion(String id, Consumer<Job> listener) {
    Job done;
    synchronized (this) {
      Entry entry = entries.get(id);
      if (entry == null) {
        return () -> { };
      }
      if (entry.completion == null) {
        if (entry.listeners == null) {
          entry.listeners = new ArrayList<>(1);
        }
        entry.listeners.add(listener);
        return () -> {
          synchronized (this) {
            if (entry.listeners != null) {
              entry.listeners.remove(listener);
            }
          }
        };
      }
      done = entry.snapshot();
    }
    listener.accept(done);
    return () -> { };
  }

  /**
   * Records a job's completion and wakes its listeners. The first completion of a job wins: returns false for a
   * duplicate, which changes nothing.
   */
  boolean complete(Completion completion) {
    List<Consumer<Job>> listeners;
    Job job;
    synchronized (this) {
      Entry entry = entries.get(completion.getRequestId());
      if (entry != null && entry.completion != null) {
        return false;
      }
      if (entry == null) {
        Map<String, String> metadata = completion.getMetadata();
        entry = new Entry(completion.getRequestId(),
            metadata == null ? null : metadata.get(RequestRules.API_KEY_NAME),
            Instant.ofEpochMilli(completion.getCreatedAt()), null);
        entries.put(entry.id, entry);
        evictOverCapacity();
      }
      entry.completion = completion;
      releaseSlot(entry);
      listeners = entry.listeners;
      entry.listeners = null;
      job = entry.snapshot();
    }
    if (listeners != null) {
      listeners.forEach(l -> l.accept(job));
    }
    return true;
  }

  /**
   * Frees the slots of jobs accepted before {@code cutoff} whose completion never came, so a pipeline that lost
   * jobs cannot hold this gateway at its in-flight limit forever. The jobs stay queued and still complete if their
   * completion turns up. Returns how many were released.
   */
  synchronized int releaseStale(Instant cutoff) {
    int released = 0;
    for (Entry entry : entries.values()) {
      if (entry.holdsSlot && entry.created.isBefore(cutoff) && entry.published.isDone()) {
        releaseSlot(entry);
        released++;
      }
    }
    return released;
  }

  synchronized int inFlight() {
    return inFlight;
  }

  synchronized int size() {
    return entries.size();
  }

  private void releaseSlot(Entry entry) {
    if (entry.holdsSlot) {
      entry.holdsSlot = false;
      inFlight--;
    }
  }

  private void evictOverCapacity() {
    Iterator<Entry> oldestFirst = entries.values().iterator();
    while (entries.size() > capacity && oldestFirst.hasNext()) {
      if (oldestFirst.next().evictable()) {
        oldestFirst.remove();
      }
    }
  }
}
