package io.aigc.text;

import java.util.Arrays;

/**
 * The text each generated token adds where it stands, token by token, as log-probabilities report it: a
 * SentencePiece token's leading space is kept (decoding the token alone would drop it), and an alternative token is
 * shown as the text it would have added at the same place. A token that is part of a multi-byte character shows what
 * it decodes to on its own terms there (often a replacement character): the joined texts of the tokens are not
 * guaranteed to be the completion's text, which {@link TextStream} and {@link TextTokenizer#continuation} give.
 *
 * <p>One per choice; not thread-safe.
 */
public final class TokenTexts {
  /** Tokens before the one decoded: enough for the decoder's context (a space, a byte run's start). */
  private static final int CONTEXT_TOKENS = 4;

  private final TextTokenizer tokenizer;
  private int[] context;

  /** Starts after {@code prompt}. */
  public TokenTexts(TextTokenizer tokenizer, int[] prompt) {
    this.tokenizer = tokenizer;
    this.context = Arrays.copyOfRange(prompt, Math.max(0, prompt.length - CONTEXT_TOKENS), prompt.length);
  }

  /** The text {@code token} would add here, without moving on. */
  public String at(int token) {
    return tokenizer.continuation(context, new int[] {token});
  }

  /** The text {@code token} adds here; the next call is about the position after it. */
  public String next(int token) {
    String text = at(token);
    int keep = Math.min(context.length, CONTEXT_TOKENS - 1);
    int[] moved = Arrays.copyOfRange(context, context.length - keep, context.length + 1);
    moved[keep] = token;
    context = moved;
    return text;
  }
}
