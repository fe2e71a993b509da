package io.aigc.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.model.ModelDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private static final Logger log = LoggerFactory.getLogger(TextTokenizer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Every decoder the tokenizers library has; all of them but the two byte decoders act on each token alone. */
  private static final Set<String> KNOWN_DECODERS = Set.of("ByteLevel", "ByteFallback", "Metaspace", "Replace",
      "Strip", "Fuse", "WordPiece", "BPEDecoder", "CTC", "Sequence");

  private final HuggingFaceTokenizer tokenizer;
  private final OptionalInt bosToAdd;
  private final Optional<String> bosText;
  private final DecoderFacts facts;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, OptionalInt bosToAdd, Optional<String> bosText,
      DecoderFacts facts) {
    this.tokenizer = tokenizer;
    this.bosToAdd = bosToAdd;
    this.bosText = bosText;
    this.facts = facts;
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
          model.bosToken().filter(t -> !t.isEmpty()), DecoderFacts.read(model.tokenizerFile()));
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
    return decode(ids, 0, ids.length);
  }

  /** The text of {@code ids[from, to)}, special tokens left out. */
  String decode(int[] ids, int from, int to) {
    long[] longs = new long[to - from];
    for (int i = from; i < to; i++) {
      longs[i - from] = ids[i];
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
    return textAfter(decode(prompt), decode(all));
  }

  /**
   * What {@code after} (the text of prompt + generated) adds to {@code before} (the prompt's text). Usually
   * {@code before} is a prefix; when the generated tokens rewrote the prompt's end (a character whose bytes
   * straddle the boundary), what differs is kept. {@link TextStream} applies this same rule.
   */
  static String textAfter(String before, String after) {
    return after.substring(commonPrefix(before, after));
  }

  private static int commonPrefix(String a, String b) {
    int common = 0;
    int limit = Math.min(a.length(), b.length());
    while (common < limit && a.charAt(common) == b.charAt(common)) {
      common++;
    }
    return common;
  }

  /**
   * Whether the decoder may decode {@code id} differently depending on the tokens next to it, in ways that can
   * change text already decoded: a byte token of a ByteFallback decoder (a run of them is one UTF-8 string, all
   * replacement characters if the run is not valid UTF-8 as a whole, so one more byte can turn "é" into three).
   * True for every id if the decoder is one this class does not know.
   */
  boolean isFallbackByte(int id) {
    return facts.opaque || facts.fallbackBytes.get(id);
  }

  /** Whether decoding leaves {@code id} out entirely: a special token, or an id with no token. */
  boolean isSkipped(int id) {
    return id < 0 || id >= facts.tokenCount || facts.special.get(id);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  /** What tokenizer.json says about how tokens become text, beyond what the native library exposes. */
  private record DecoderFacts(BitSet fallbackBytes, BitSet special, int tokenCount, boolean opaque) {
    static DecoderFacts read(Path file) {
      try {
        JsonNode root = JSON.readTree(file.toFile());
        Set<String> decoders = new HashSet<>();
        collectDecoders(root.path("decoder"), decoders);
        boolean opaque = !KNOWN_DECODERS.containsAll(decoders);
        if (opaque) {
          log.warn("{} has a decoder this version does not know ({}): streamed text waits for the end",
              file, decoders);
        }
        boolean byteFallback = decoders.contains("ByteFallback");
        BitSet fallbackBytes = new BitSet();
        BitSet special = new BitSet();
        int tokenCount = 0;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) { // BPE, WordPiece, WordLevel: token -> id
          for (Map.Entry<String, JsonNode> entry : vocab.properties()) {
            int id = entry.getValue().asInt();
            tokenCount = Math.max(tokenCount, id + 1);
            if (byteFallback && looksLikeByte(entry.getKey())) {
              fallbackBytes.set(id);
            }
          }
        } else if (vocab.isArray()) { // Unigram: [token, score] in id order
          for (int id = 0; id < vocab.size(); id++) {
            if (byteFallback && looksLikeByte(vocab.get(id).path(0).asText())) {
              fallbackBytes.set(id);
            }
          }
          tokenCount = vocab.size();
        }
        for (JsonNode added : root.path("added_tokens")) {
          int id = added.path("id").asInt();
          tokenCount = Math.max(tokenCount, id + 1);
          if (added.path("special").asBoolean()) {
            special.set(id);
          } else if (byteFallback && looksLikeByte(added.path("content").asText())) {
            fallbackBytes.set(id);
          }
        }
        return new DecoderFacts(fallbackBytes, special, tokenCount, opaque);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }

    private static void collectDecoders(JsonNode decoder, Set<String> into) {
      if (decoder.isMissingNode() || decoder.isNull()) {
        return;
      }
      into.add(decoder.path("type").asText());
      for (JsonNode inner : decoder.path("decoders")) {
        collectDecoders(inner, into);
      }
    }

    /** The ByteFallback decoder's own test (six bytes, {@code <0x..>}), loosened: a false positive only delays. */
    private static boolean looksLikeByte(String token) {
      return token.startsWith("<0x") && token.endsWith(">")
          && token.getBytes(StandardCharsets.UTF_8).length == 6;
    }
  }
}
