package io.aigc.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.aigc.model.ModelDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A model's {@code tokenizer.json}, run by the Hugging Face tokenizers library (through DJL).
 *
 * <p>Two rules that are easy to get wrong live here, once:
 * <ul>
 *   <li><b>BOS.</b> The tokenizer's own post-processor decides the special tokens: many (Llama's among them) add
 *       BOS themselves. Only when tokenizer_config.json asks for BOS and the post-processor did not add it is it
 *       prepended, so it is never doubled.
 *   <li><b>Detokenizing a continuation.</b> Decoding generated ids alone loses what depends on context (a
 *       SentencePiece decoder strips the first token's leading space, a multi-byte character may straddle the
 *       boundary). The text of a continuation is the text of prompt + generated minus the text of the prompt.
 * </ul>
 *
 * <p>Thread-safe: the native tokenizer is immutable once loaded.
 */
public final class TextTokenizer implements AutoCloseable {
  static {
    // Never reach for the network: the native library ships in DJL's jar.
    System.setProperty("offline", "true");
  }

  private final HuggingFaceTokenizer tokenizer;
  private final OptionalInt bosToAdd;
  private final Optional<String> bosText;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, OptionalInt bosToAdd, Optional<String> bosText) {
    this.tokenizer = tokenizer;
    this.bosToAdd = bosToAdd;
    this.bosText = bosText;
  }

  public static TextTokenizer load(ModelDirectory model) {
    try {
      HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
          .optTokenizerPath(model.tokenizerFile())
          .optAddSpecialTokens(true)
          // A prompt is never cut silently: the tokenizer-service rejects one that does not fit the context.
          .optTruncation(false)
          .optPadding(false)
          .build();
      boolean wantsBos = model.addBosToken().orElse(false);
      return new TextTokenizer(tokenizer, wantsBos ? model.bosTokenId() : OptionalInt.empty(),
          model.bosToken().filter(t -> !t.isEmpty()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load " + model.tokenizerFile(), e);
    }
  }

  /** The token ids of {@code text}, with the special tokens the model expects at the start of a sequence. */
  public int[] encode(String text) {
    Encoding encoding = tokenizer.encode(text, true, false);
    long[] ids = encoding.getIds();
    boolean prepend = bosToAdd.isPresent() && (ids.length == 0 || ids[0] != bosToAdd.getAsInt());
    int[] out = new int[ids.length + (prepend ? 1 : 0)];
    int offset = 0;
    if (prepend) {
      out[0] = bosToAdd.getAsInt();
      offset = 1;
    }
    for (int i = 0; i < ids.length; i++) {
      out[offset + i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /**
   * The token ids of a prompt rendered by a chat template. A template that writes {@code {{ bos_token }}} has put
   * the BOS in the text already, and transformers tokenizes its output without adding special tokens: such a text
   * gets no second BOS. Any other text is encoded as {@link #encode} encodes it.
   */
  public int[] encodeChat(String renderedChat) {
    if (bosText.isPresent() && renderedChat.startsWith(bosText.get())) {
      return toInts(tokenizer.encode(renderedChat, false, false).getIds());
    }
    return encode(renderedChat);
  }

  private static int[] toInts(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /** The text of {@code ids}, special tokens left out. */
  public String decode(int[] ids) {
    long[] longs = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      longs[i] = ids[i];
    }
    return tokenizer.decode(longs, true);
  }

  public String decode(List<Integer> ids) {
    return decode(ids.stream().mapToInt(Integer::intValue).toArray());
  }

  /** The text that {@code generated} adds after {@code prompt}, exact at any token boundary. */
  public String continuation(int[] prompt, int[] generated) {
    if (generated.length == 0) {
      return "";
    }
    int[] all = new int[prompt.length + generated.length];
    System.arraycopy(prompt, 0, all, 0, prompt.length);
    System.arraycopy(generated, 0, all, prompt.length, generated.length);
    String before = decode(prompt);
    String after = decode(all);
    if (after.startsWith(before)) {
      return after.substring(before.length());
    }
    // A decoder that rewrites across the boundary (rare: cleanup of spaces before punctuation). Keep what differs.
    int common = 0;
    int limit = Math.min(before.length(), after.length());
    while (common < limit && before.charAt(common) == after.charAt(common)) {
      common++;
    }
    return after.substring(common);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
