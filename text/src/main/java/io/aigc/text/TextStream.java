package io.aigc.text;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * The text of one generated sequence (one choice), piece by piece as its tokens arrive.
 *
 * <p>The pieces joined are exactly the completion's final text: {@link TextTokenizer#continuation} of the prompt
 * and every token, cut at {@link #earliestStop}. So a piece is only text that no later token can change and that
 * cannot turn out to belong to a stop string: a character whose bytes are still arriving is never emitted half
 * (no stray U+FFFD), a leading space is kept, and text that may be the beginning of a stop string waits until it
 * is known not to be.
 *
 * <h2>How</h2>
 * Text is decoded from a window of recent tokens, not from the start (vLLM's prefix and read offsets, made exact):
 * <ul>
 *   <li><b>Cuts.</b> A cut is a token boundary that no later token can reach across: the text before it is final
 *       and the text after it decodes the same from any cut before it. Everywhere is a cut for decoders that act on
 *       each token alone (Metaspace, Replace, Strip, WordPiece...), except inside an unfinished character:
 *       <ul>
 *         <li>ByteLevel (GPT-2) decodes all bytes as one lossy UTF-8 string, so only a character still missing
 *             bytes can change, and it shows as a trailing U+FFFD. A boundary is a cut unless the text up to it
 *             ends with U+FFFD.
 *         <li>ByteFallback (Llama) decodes a run of byte tokens ({@code <0xE2>}) as one string, all U+FFFD unless
 *             the whole run is valid UTF-8, so one more byte token can turn a valid "é" into three U+FFFD. A run
 *             is settled only once a token that is not a byte ends it (special tokens, which decoding skips, do
 *             not), and no boundary inside an open run is a cut.
 *       </ul>
 *   <li><b>Window.</b> The window starts at an earlier cut with some decoded text before the latest cut (the
 *       context): a decoder's effects at the very start (SentencePiece's Strip of the first space) then fall on
 *       the context, identically in every decode, never on new text. Each step decodes the window up to the
 *       latest cut the new tokens allow; what is new beyond the text known final so far is passed on. Once the
 *       commit point (the latest cut reached) is more than {@value #MOVE_WINDOW_AFTER} tokens past the start,
 *       the window moves up to a recent cut with text, {@value #CONTEXT_TOKENS} or more tokens back.
 *   <li><b>Prompt.</b> At first the window starts a few tokens before the end of the prompt, and the text after
 *       the prompt is found with {@link TextTokenizer#textAfter}, the rule of {@code continuation}: a character
 *       whose bytes straddle the prompt's end comes out whole. Until the final text is known to differ from the
 *       prompt's tail (or to extend it), nothing is emitted.
 *   <li><b>Stop strings.</b> New text joins what was held back; if a stop string occurs and no earlier position
 *       could still begin one, the text is cut there and the stream ends. Otherwise everything is emitted except
 *       the longest suffix that is a proper prefix of a stop string.
 * </ul>
 *
 * <p><b>Cost.</b> A step decodes one window: the context, plus the tokens since the commit point. That is a
 * handful of tokens, except while a character or a ByteFallback run stays open (the window grows until it
 * closes: a real model closes it within a few tokens; an endless run of byte tokens or of text ending in U+FFFD
 * would be paid for token by token, never by losing exactness), and a step that adds no new cut-able text
 * decodes nothing. Moving the window decodes its new context once. Stop strings cost their length squared per
 * step. {@link #finish} decodes the window once more.
 *
 * <p>Any other decoder (one the tokenizers library adds later) is treated as if every token were an open byte:
 * the text comes whole at {@link #finish}. Should a decoder ever change text before a cut, the stream fails
 * ({@link IllegalStateException}) rather than let its pieces and the completion differ.
 *
 * <p>Not thread-safe: one per generated sequence.
 */
public final class TextStream {
  static final int CONTEXT_TOKENS = 4;
  static final int MOVE_WINDOW_AFTER = 16;
  /** How far back in the prompt a window start is looked for before starting at the prompt's beginning. */
  private static final int PROMPT_SEARCH = 64;
  private static final char REPLACEMENT = '\uFFFD';

  /** The text with which a stream ends: what was still to come, and whether a stop string cut it. */
  public record Ending(String text, boolean stopped) {}

  private final TextTokenizer tokenizer;
  private final Holdback holdback;
  private final int promptLength;
  private int[] ids;
  private int length;

  /** The window's start: a cut. */
  private int windowStart;
  /** The latest cut reached. */
  private int commit;
  /** Earlier cuts after the window start, where it may move to. */
  private final Deque<Integer> cuts = new ArrayDeque<>();
  /** The longest text of the window known final: no later token changes it. */
  private String stable = "";
  /** The window's text up to the prompt's end, until the text after the prompt is known; then null. */
  private String promptTail;
  private boolean finished;
  private int lastDecoded;

  /**
   * @param prompt the prompt's token ids, as the model saw them
   * @param stops the request's stop strings (empty ones are ignored)
   */
  public TextStream(TextTokenizer tokenizer, int[] prompt, List<String> stops) {
    this.tokenizer = tokenizer;
    this.holdback = new Holdback(stops);
    this.promptLength = prompt.length;
    this.ids = Arrays.copyOf(prompt, prompt.length + 64);
    this.length = prompt.length;
    this.windowStart = promptWindowStart();
    this.commit = windowStart;
    this.promptTail = decode(windowStart, promptLength);
  }

  /** Where the first of {@code stops} to occur in {@code text} begins, or -1: the rule that ends a completion. */
  public static int earliestStop(String text, List<String> stops) {
    int earliest = -1;
    for (String stop : stops) {
      if (stop.isEmpty()) {
        continue;
      }
      int at = text.indexOf(stop);
      if (at >= 0 && (earliest < 0 || at < earliest)) {
        earliest = at;
      }
    }
    return earliest;
  }

  /** Adds the newest generated tokens; returns the text that may be emitted now, often empty. */
  public String append(int... tokens) {
    if (finished) {
      throw new IllegalStateException("the stream is finished");
    }
    if (holdback.stopped) {
      return "";
    }
    if (length + tokens.length > ids.length) {
      ids = Arrays.copyOf(ids, Math.max(ids.length * 2, length + tokens.length));
    }
    System.arraycopy(tokens, 0, ids, length, tokens.length);
    length += tokens.length;

    int cut = latestCut();
    if (cut <= commit) {
      return "";
    }
    String text = decode(windowStart, cut);
    String known = withoutTrailingReplacements(text);
    String fresh = advanceTo(known);
    if (known.length() == text.length()) {
      commit(cut);
    }
    return holdback.offer(fresh);
  }

  /** Whether a stop string has ended the text: nothing more will be emitted, generation may end. */
  public boolean stopped() {
    return holdback.stopped;
  }

  /** The rest of the text, now that no more tokens will come. */
  public Ending finish() {
    if (finished) {
      throw new IllegalStateException("the stream is finished");
    }
    finished = true;
    if (holdback.stopped) {
      return new Ending("", true);
    }
    String text = decode(windowStart, length);
    return holdback.finish(promptTail != null ? TextTokenizer.textAfter(promptTail, text) : advanceTo(text));
  }

  /** How many tokens the last decode covered (for tests of the per-step cost). */
  int lastDecoded() {
    return lastDecoded;
  }

  /**
   * Takes {@code known}, a final text of the window, as the new stable text; returns what it adds to the text of
   * the completion that was not passed on before.
   */
  private String advanceTo(String known) {
    if (!known.startsWith(stable)) {
      throw new IllegalStateException("the decoder changed text before a cut: '" + stable + "' became '" + known
          + "'; streamed text would differ from the completion");
    }
    String before = stable;
    stable = known;
    if (promptTail == null) {
      return known.substring(before.length());
    }
    // Still at the prompt's end: text that is a proper prefix of the prompt's tail may yet be rewritten into
    // anything (its last character may be the start of a longer one), so where the completion starts is open.
    if (known.length() < promptTail.length() && promptTail.startsWith(known)) {
      return "";
    }
    String fresh = TextTokenizer.textAfter(promptTail, known);
    promptTail = null;
    return fresh;
  }

  /** The latest cut the tokens allow: the end, or the start of the open byte run at the end. */
  private int latestCut() {
    int cut = length;
    for (int i = length - 1; i >= commit; i--) {
      int id = ids[i];
      if (tokenizer.isSkipped(id)) {
        continue;
      }
      if (!tokenizer.isFallbackByte(id)) {
        break;
      }
      cut = i;
    }
    return cut;
  }

  private void commit(int cut) {
    commit = cut;
    cuts.addLast(cut);
    if (promptTail == null && commit - windowStart > MOVE_WINDOW_AFTER) {
      moveWindow();
    }
  }

  /** Moves the window's start up to the latest cut that leaves at least the context and has text. */
  private void moveWindow() {
    for (Iterator<Integer> it = cuts.descendingIterator(); it.hasNext(); ) {
      int start = it.next();
      if (start <= windowStart) {
        break;
      }
      if (commit - start < CONTEXT_TOKENS) {
        continue;
      }
      String context = decode(start, commit);
      if (context.isEmpty()) {
        continue; // a decoder's start-of-text rule would fall on new text
      }
      // All the window's text up to the commit point is stable: a commit is made only when all of it is final.
      windowStart = start;
      stable = context;
      cuts.removeIf(c -> c < start);
      return;
    }
  }

  /**
   * A cut a few tokens before the prompt's end with text on both sides, or the prompt's start: a window that
   * starts there decodes the end of the prompt as the whole prompt does.
   */
  private int promptWindowStart() {
    for (int start = promptLength - CONTEXT_TOKENS; start > 0 && promptLength - start <= PROMPT_SEARCH; start--) {
      if (!isCutInPrompt(start)) {
        continue;
      }
      String before = decode(Math.max(0, start - 2 * CONTEXT_TOKENS), start);
      if (before.isEmpty() || before.charAt(before.length() - 1) == REPLACEMENT) {
        continue; // maybe a character still missing bytes
      }
      if (!decode(start, promptLength).isEmpty()) {
        return start;
      }
    }
    return 0;
  }

  /** Whether {@code at} does not split a ByteFallback run: the text-based half of the test is the caller's. */
  private boolean isCutInPrompt(int at) {
    for (int i = at - 1; i >= 0; i--) {
      if (!tokenizer.isSkipped(ids[i])) {
        if (!tokenizer.isFallbackByte(ids[i])) {
          return true;
        }
        break;
      }
    }
    for (int i = at; i < promptLength; i++) {
      if (!tokenizer.isSkipped(ids[i])) {
        return !tokenizer.isFallbackByte(ids[i]);
      }
    }
    return false;
  }

  private String decode(int from, int to) {
    lastDecoded = to - from;
    return from == to ? "" : tokenizer.decode(ids, from, to);
  }

  private static String withoutTrailingReplacements(String text) {
    int end = text.length();
    while (end > 0 && text.charAt(end - 1) == REPLACEMENT) {
      end--;
    }
    return text.substring(0, end);
  }

  /** Holds back text that may be the start of a stop string, and cuts at the first stop string. */
  private static final class Holdback {
    private final List<String> stops;
    private final int longest;
    /** Text not yet emitted; nothing before it can be part of a stop string. */
    private String held = "";
    private boolean stopped;

    Holdback(List<String> stops) {
      this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
      this.longest = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    String offer(String text) {
      if (stops.isEmpty() || text.isEmpty()) {
        return text;
      }
      held += text;
      int stop = earliestStop(held, stops);
      int open = earliestOpenStart();
      // A stop string found ends the text unless one could still begin before it (stops "abcd" and "bc" in
      // "abc": "bc" is found, but "abcd" may yet come first).
      if (stop >= 0 && (open < 0 || stop <= open)) {
        stopped = true;
        return held.substring(0, stop);
      }
      int upTo = open < 0 ? held.length() : open;
      String out = held.substring(0, upTo);
      held = held.substring(upTo);
      return out;
    }

    Ending finish(String text) {
      held += text;
      int stop = earliestStop(held, stops);
      stopped = stop >= 0;
      return new Ending(stopped ? held.substring(0, stop) : held, stopped);
    }

    /** Where the longest suffix of the held text that is a proper prefix of a stop string begins, or -1. */
    private int earliestOpenStart() {
      int n = held.length();
      for (int at = Math.max(0, n - longest + 1); at < n; at++) {
        int rest = n - at;
        for (String stop : stops) {
          if (stop.length() > rest && stop.regionMatches(0, held, at, rest)) {
            return at;
          }
        }
      }
      return -1;
    }
  }
}
