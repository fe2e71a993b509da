package io.aigc.gateway;

import io.aigc.schemas.StreamEvent;
import io.aigc.schemas.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One streamed answer ({@code "stream": true}): the job's text as Server-Sent Events, {@code data: {chunk}} per
 * piece, in OpenAI's chunk shapes ({@link ResponseFormat}), ending with {@code data: [DONE]}. Used on the request's
 * event loop only, and settled exactly once: by its end, an error, the idle timeout, or the client leaving.
 *
 * <ul>
 *   <li>Nothing is sent before the first event or the completion arrives, so an error known before any text
 *       (context_length_exceeded from the tokenizer, a deadline, a publish failure) is an ordinary HTTP error, with
 *       its usual status and body.
 *   <li>Per choice, events are taken in sequence order; a sequence seen already (a worker's redo after a crash) is
 *       dropped. A redo that differs from what was sent, or a gap, detaches the choice from the events: its
 *       completion then decides.
 *   <li>A chat choice's first chunk announces {@code role: "assistant"} with empty content, as OpenAI's does. Each
 *       choice's last chunk carries its {@code finish_reason}, exactly once.
 *   <li>The stream ends when every choice has ended in the events. The completion ({@link JobStore#onCompletion}),
 *       the one authoritative outcome, ends it sooner when it comes first: OK sends what each choice still lacks
 *       (the completion's text must start with what was sent, else an error event), an error fails the stream.
 *   <li>With {@code include_usage}, a last chunk with no choices has the usage of them all (the prompt counted once).
 *   <li>An error after the stream began is an event, {@code data: {"error": {...}}}, followed by
 *       {@code data: [DONE]} as vLLM sends it, so a client that reads to [DONE] does not hang.
 *   <li>No event for {@code AIGC_STREAM_IDLE_TIMEOUT} (the wait for the first one included): the job is cancelled
 *       and the stream fails with {@code stream_timeout}. A client that leaves cancels its job too: nobody would
 *       read the rest, and the worker frees its batch slot.
 * </ul>
 *
 * <p>Writes are not throttled to the client's pace: a stream holds at most its job's text, bounded by
 * {@code max_tokens}.
 */
final class EventStream {
  private static final Logger log = LoggerFactory.getLogger(EventStream.class);
  private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");

  private final RoutingContext ctx;
  private final JobWatch watch;
  private final String id;
  private final String caller;
  private final ResponseFormat format;
  private final String model;
  private final boolean includeUsage;
  private final Setup setup;
  private final StreamAssembly assembly;
  private final Sent[] sent;
  private ResponseFormat.Chunks chunks;
  private boolean headersSent;
  private long lastEventNanos;

  /**
   * What every stream of a gateway shares.
   *
   * @param idleTimeout {@code AIGC_STREAM_IDLE_TIMEOUT}
   */
  record Setup(StreamFeed feed, JobStore store, JobCanceller canceller, Duration idleTimeout,
      GatewayMetrics metrics) {}

  /** What this stream has sent of one choice. */
  private static final class Sent {
    int codePoints;
    boolean begun;
  }

  EventStream(RoutingContext ctx, String id, String caller, ResponseFormat format, String model, int n,
      boolean includeUsage, Setup setup) {
    this.ctx = ctx;
    this.watch = new JobWatch(ctx, id);
    this.id = id;
    this.caller = caller;
    this.format = format;
    this.model = model;
    this.includeUsage = includeUsage;
    this.setup = setup;
    this.assembly = new StreamAssembly(n);
    this.sent = new Sent[n];
    for (int i = 0; i < n; i++) {
      sent[i] = new Sent();
    }
  }

  /** Listens for the job's events: before its request is published, so that none passes unseen. */
  void listen() {
    setup.metrics().streamOpened();
    watch.listen(setup.feed(), this::onEvents);
    ctx.response().closeHandler(v -> clientLeft());
  }

  /** The job is on the requests topic: start the idle clock and wait for its completion as well. */
  void start(JobStore.Job job) {
    if (watch.settled()) {
      return;
    }
    chunks = format.chunks(id, job.created().getEpochSecond(), model, includeUsage);
    lastEventNanos = System.nanoTime();
    armIdleTimer(setup.idleTimeout().toMillis());
    List<StreamEvent> before = watch.start(setup.store(), this::onCompletion);
    if (!before.isEmpty()) {
      onEvents(before);
    }
  }

  /** The job was not accepted (429, 503, ...): an ordinary HTTP error. */
  void refused(Throwable error) {
    settle("error", () -> ctx.fail(error));
  }

  private void onEvents(List<StreamEvent> events) {
    if (watch.settled()) {
      return;
    }
    lastEventNanos = System.nanoTime();
    if (watch.holds(events)) {
      return;
    }
    if (!send(assembly.events(events))) {
      return;
    }
    Usage usage = assembly.usage();
    if (usage != null || assembly.allFinished() && !includeUsage) {
      end(usage);
    }
  }

  private void onCompletion(JobStore.Job job) {
    if (!watch.settled() && send(assembly.completion(job.completion()))) {
      end(job.completion().getUsage());
    }
  }

  /** Sends what a step of the assembly added; false when it ended the stream with an error. */
  private boolean send(StreamAssembly.Step step) {
    if (step instanceof StreamAssembly.Failed failed) {
      Buffer out = Buffer.buffer();
      failed.before().forEach(piece -> append(out, piece));
      write(out);
      fail(ApiError.fromPipeline(id, failed.error()), "error");
      return false;
    }
    if (step instanceof StreamAssembly.Diverged diverged) {
      fail(ApiError.streamDiverged(id, diverged.choice()), "error");
      return false;
    }
    Buffer out = Buffer.buffer();
    for (StreamAssembly.Piece piece : ((StreamAssembly.Pieces) step).pieces()) {
      append(out, piece);
    }
    write(out);
    return true;
  }

  /** Adds a piece of a choice to {@code out}: the choice's first chunk, if this is its first, then the piece. */
  private void append(Buffer out, StreamAssembly.Piece piece) {
    Sent choice = sent[piece.choice()];
    boolean empty = piece.text().isEmpty() && (piece.logprobs() == null || piece.logprobs().isEmpty());
    if (empty && piece.finishReason() == null) {
      return;
    }
    if (!choice.begun) {
      choice.begun = true;
      JsonObject first = chunks.start(piece.choice());
      if (first != null) {
        out.appendBuffer(event(first));
      }
    }
    out.appendBuffer(event(chunks.text(piece.choice(), piece.text(), piece.logprobs(), choice.codePoints,
        piece.finishReason())));
    choice.codePoints += ResponseFormat.codePoints(piece.text());
  }

  private void end(Usage usage) {
    settle("done", () -> {
      Buffer last = Buffer.buffer();
      if (includeUsage && usage != null) {
        last.appendBuffer(event(chunks.usage(usage)));
      }
      startResponse();
      ctx.response().end(last.appendBuffer(DONE));
    });
  }

  private void fail(ApiError error, String outcome) {
    settle(outcome, () -> {
      if (!headersSent) {
        // Nothing sent yet: an ordinary HTTP error, with its status.
        ctx.fail(error);
      } else {
        ctx.response().end(event(JsonViews.error(error)).appendBuffer(DONE));
      }
    });
  }

  private void clientLeft() {
    if (!watch.settled()) {
      cancelJob("the client left");
      settle("client_closed", () -> { });
    }
  }

  private void armIdleTimer(long delayMs) {
    watch.timer(delayMs, () -> {
      long leftNanos = setup.idleTimeout().toNanos() - (System.nanoTime() - lastEventNanos);
      if (watch.settled()) {
        return;
      }
      if (leftNanos > 0) {
        // An event came meanwhile: one timer per stream, re-armed, rather than one per event.
        armIdleTimer((leftNanos + 999_999) / 1_000_000);
        return;
      }
      cancelJob("it stalled");
      fail(ApiError.streamTimeout(id, setup.idleTimeout()), "timeout");
    });
  }

  private void cancelJob(String why) {
    setup.canceller().cancel(id, caller).onFailure(e ->
        log.warn("could not cancel streamed job {} after {}: {}", id, why, e.toString()));
  }

  private void settle(String outcome, Runnable then) {
    if (!watch.settle()) {
      return;
    }
    setup.metrics().streamEnded(outcome);
    if (!watch.clientGone()) {
      then.run();
    }
  }

  private void write(Buffer out) {
    if (out.length() > 0) {
      startResponse();
      ctx.response().write(out);
    }
  }

  private void startResponse() {
    if (headersSent) {
      return;
    }
    headersSent = true;
    HttpServerResponse response = ctx.response()
        .setStatusCode(200)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache")
        // Proxies such as nginx would otherwise buffer the stream and deliver it at the end.
        .putHeader("X-Accel-Buffering", "no");
    if (ctx.request().version() != HttpVersion.HTTP_2) {
      response.setChunked(true);
    }
  }

  private static Buffer event(JsonObject data) {
    return Buffer.buffer("data: ").appendString(data.encode()).appendString("\n\n");
  }
}
