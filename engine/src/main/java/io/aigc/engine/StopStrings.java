package io.aigc.engine;

import io.aigc.text.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Notices when a sequence's text has come to contain a stop string, so generation ends there instead of running
 * on to max_tokens. The postprocessor cuts the text at the stop string; this only decides when to stop.
 *
 * <p>Only the tail is decoded at each step: a stop string that appears now must end in the newest token, and
 * every token is at least one byte of text, so a window of as many tokens as the longest stop string has bytes
 * (plus a margin) contains it. A few tokens before the window are decoded as context and then removed, so the
 * window's text is exact (see {@link TextTokenizer#continuation}).
 */
final class StopStrings {
  private static final int CONTEXT_TOKENS = 4;
  private final TextTokenizer tokenizer;
  private final List<String> stops;
  private final int window;

  StopStrings(TextTokenizer tokenizer, List<String> stops) {
    this.tokenizer = tokenizer;
    this.stops = List.copyOf(stops);
    int longest = 0;
    for (String s : stops) {
      longest = Math.max(longest, s.getBytes(StandardCharsets.UTF_8).length);
    }
    this.window = longest + 4;
  }

  boolean isEmpty() {
    return stops.isEmpty();
  }

  /** Whether the generated text (after {@code prompt}) now contains a stop string. */
  boolean reached(int[] prompt, int[] generated, int generatedCount) {
    if (stops.isEmpty()) {
      return false;
    }
    int start = Math.max(0, generatedCount - window);
    int contextCount = Math.min(CONTEXT_TOKENS, start + prompt.length);
    int[] context = new int[contextCount];
    for (int i = 0; i < contextCount; i++) {
      int pos = start - contextCount + i; // negative positions are in the prompt
      context[i] = pos >= 0 ? generated[pos] : prompt[prompt.length + pos];
    }
    int[] tail = new int[generatedCount - start];
    System.arraycopy(generated, start, tail, 0, tail.length);
    String text = tokenizer.continuation(context, tail);
    for (String stop : stops) {
      if (text.contains(stop)) {
        return true;
      }
    }
    return false;
  }
}
