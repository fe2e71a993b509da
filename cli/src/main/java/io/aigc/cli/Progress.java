package io.aigc.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress on stderr: a bar redrawn in place on a terminal, a plain line every ten seconds otherwise (a log, a CI
 * job). Done and failed count the whole batch, earlier runs included; the rate and the time left count this run.
 */
final class Progress {
  private static final int WIDTH = 30;
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final long LINE_NANOS = 10_000_000_000L;

  /** Makes the progress of a run once it knows its size and what earlier runs did. */
  interface Factory {
    Progress create(int total, int succeeded, int failed);
  }

  private final PrintStream out;
  private final boolean terminal;
  private final String what;
  private final int total;
  private final int doneBefore;
  private final long started = System.nanoTime();
  private int succeeded;
  private int failed;
  private long lastShown;

  Progress(PrintStream out, boolean terminal, String what, int total, int succeeded, int failed) {
    this.out = out;
    this.terminal = terminal;
    this.what = what;
    this.total = total;
    this.succeeded = succeeded;
    this.failed = failed;
    this.doneBefore = succeeded + failed;
    this.lastShown = started - LINE_NANOS;
  }

  /** A bar on stderr when stderr is a terminal the user watches (Java tells only of stdin and stdout together). */
  static boolean onTerminal() {
    return System.console() != null;
  }

  void completed(boolean ok) {
    if (ok) {
      succeeded++;
    } else {
      failed++;
    }
    tick();
  }

  int succeeded() {
    return succeeded;
  }

  int failed() {
    return failed;
  }

  /** Redraws if it is time to. */
  void tick() {
    long now = System.nanoTime();
    if (now - lastShown < (terminal ? REDRAW_NANOS : LINE_NANOS)) {
      return;
    }
    lastShown = now;
    show(now);
  }

  /** The last state, then a new line: what follows starts on a line of its own. */
  void finish() {
    show(System.nanoTime());
    if (terminal) {
      out.println();
    }
  }

  private void show(long now) {
    String line = line(now);
    if (terminal) {
      out.print("\r" + line + "\u001b[K");
    } else {
      out.println(line);
    }
    out.flush();
  }

  String line(long now) {
    int done = succeeded + failed;
    double seconds = Math.max(1e-3, (now - started) / 1e9);
    double rate = (done - doneBefore) / seconds;
    String eta = rate > 0 && done < total ? duration((total - done) / rate) : done >= total ? "0s" : "?";
    String counts = String.format(Locale.ROOT, "%d/%d %s, %d failed, %.1f/s, ETA %s", done, total, what, failed,
        rate, eta);
    if (!terminal) {
      return counts;
    }
    int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
    return "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + counts;
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s >= 3600) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }
    return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }
}
