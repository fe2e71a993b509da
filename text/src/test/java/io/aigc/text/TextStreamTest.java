package io.aigc.text;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.model.testing.TestModels;
import io.aigc.text.testing.TestTokenizers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TextStreamTest {
  /** tiny-llama's byte fallback tokens: {@code <0x00>} is id 3. */
  private static final int LLAMA_BYTE_0 = 3;
  private static final int LLAMA_EOS = 2;
  private static final char REPLACEMENT = '\uFFFD';

  /** Multi-byte characters (neither tiny vocabulary has them), combining marks, spaces, newlines, and ASCII. */
  private static final List<String> TEXTS = List.of(
      "This License applies to any program or other work",
      "café 🦙 日本語",
      "  leading spaces\n\nand blank lines\n",
      "e\u0301 combining, a\u0308 too; ñ vs n\u0303.",
      "emoji 👩‍👩‍👧 family, flag 🇫🇷, math 𝔘𝔫𝔦",
      "tabs\tand \"quotes\" and <tags> </s> <0x41> not special",
      "Ж ж Ω ≈ ∑ € — “smart” … ",
      "日本語のテキストと English mixed 中文",
      "aaaa bbbb abab bcbc abcabc END. The end.\nSTOP\nstop",
      "\n\n\n   x  y\t\tz ");

  private static TextTokenizer tokenizer(String model) {
    return TestTokenizers.served(model).tokenizer();
  }

  /** The ids {@code tokenizer} gives {@code continuation} after {@code prompt}, in the context of both. */
  private static int[] continuation(TextTokenizer tokenizer, int[] prompt, String whole) {
    int[] ids = tokenizer.encode(whole);
    return Arrays.copyOfRange(ids, prompt.length, ids.length);
  }

  // ---- Examples ----

  @Test
  void aContinuationKeepsItsLeadingSpaceFromTheFirstPiece() {
    TextTokenizer llama = tokenizer(TestModels.TINY_LLAMA);
    int[] prompt = llama.encode("This License");
    int[] generated = continuation(llama, prompt, "This License applies to any program");

    Streamed streamed = stream(llama, prompt, generated, List.of(), 1);

    assertThat(streamed.pieces.get(0)).startsWith(" ").isNotBlank();
    assertThat(streamed.text()).isEqualTo(" applies to any program");
  }

  @Test
  void aCharacterWhoseBytesSpanSeveralTokensComesOutWholeInOnePiece() {
    TextTokenizer gpt2 = tokenizer(TestModels.TINY_GPT2);
    int[] prompt = gpt2.encode("a");
    int[] llamaEmoji = gpt2.encode(" 🦙!");
    assertThat(llamaEmoji).hasSize(6); // space, four bytes, '!'

    Streamed streamed = stream(gpt2, prompt, llamaEmoji, List.of(), 1);

    assertThat(streamed.pieces).containsExactly(" ", "", "", "", "🦙", "!", "");
  }

  @Test
  void aRunOfByteTokensWaitsForItsEndBecauseOneMoreByteCanSpoilIt() {
    TextTokenizer llama = tokenizer(TestModels.TINY_LLAMA);
    int[] prompt = llama.encode("x");
    TextStream stream = new TextStream(llama, prompt, List.of());

    // C3 A9 is "é", valid on its own...
    assertThat(stream.append(llamaByte(0xC3), llamaByte(0xA9))).isEmpty();
    assertThat(llama.continuation(prompt, new int[] {llamaByte(0xC3), llamaByte(0xA9)})).isEqualTo("é");
    // ...but the decoder decodes a run as one string: a stray continuation byte turns all three into U+FFFD.
    assertThat(stream.append(llamaByte(0x80))).isEmpty();
    int[] generated = {llamaByte(0xC3), llamaByte(0xA9), llamaByte(0x80), llama.encode(" a")[2]};
    assertThat(stream.append(generated[3])).isEqualTo("\uFFFD\uFFFD\uFFFD a");
    assertThat(llama.continuation(prompt, generated)).isEqualTo("\uFFFD\uFFFD\uFFFD a");
  }

  @Test
  void aCharacterStraddlingThePromptsEndComesOutWhole() {
    TextTokenizer llama = tokenizer(TestModels.TINY_LLAMA);
    int[] whole = llama.encode("a ж b");
    int split = 4; // BOS ▁a ▁ <0xD0> | <0xB6> ...
    assertThat(whole[split - 1]).isEqualTo(llamaByte(0xD0));

    Streamed streamed = stream(llama, Arrays.copyOf(whole, split), Arrays.copyOfRange(whole, split, whole.length),
        List.of(), 1);

    assertThat(streamed.pieces).containsExactly("", "ж b", "");
  }

  @Test
  void aSpaceAfterALongStretchOfSpecialTokensIsKept() {
    TextTokenizer llama = tokenizer(TestModels.TINY_LLAMA);
    int word = llama.encode("a")[1]; // ▁a
    int[] generated = new int[40];
    Arrays.fill(generated, 0, 20, word);
    Arrays.fill(generated, 20, 39, LLAMA_EOS); // the window moves on while they come: its context must have text
    generated[39] = word;

    Streamed streamed = stream(llama, llama.encode("x"), generated, List.of(), 1);

    assertThat(streamed.text()).isEqualTo(" a".repeat(21));
    assertThat(streamed.pieces.get(39)).isEqualTo(" a");
  }

  @Test
  void textThatMayBeginAStopStringIsHeldBackUntilItIsKnownNotToBe() {
    TextTokenizer gpt2 = tokenizer(TestModels.TINY_GPT2);
    int[] prompt = gpt2.encode("Q:");
    int[] generated = gpt2.encode("a\nb\n\nc");
    assertThat(generated).hasSize(6);

    Streamed streamed = stream(gpt2, prompt, generated, List.of("\n\n"), 1);

    assertThat(streamed.pieces).containsExactly("a", "", "\nb", "", "", "", "");
    assertThat(streamed.ending).isEqualTo(new TextStream.Ending("", true));
    assertThat(streamed.text()).isEqualTo("a\nb");
  }

  @Test
  void ofOverlappingStopStringsTheOneThatBeginsFirstCuts() {
    TextTokenizer gpt2 = tokenizer(TestModels.TINY_GPT2);
    int[] prompt = gpt2.encode(">");

    assertThat(stream(gpt2, prompt, gpt2.encode("xabc"), List.of("bc", "ab"), 1).text()).isEqualTo("x");
    // "bc" is complete first, but "abcd" may still begin earlier: the stream waits to know.
    int[] abce = "abce".chars().map(c -> gpt2.encode(Character.toString(c))[0]).toArray();
    Streamed notYet = stream(gpt2, prompt, abce, List.of("bc", "abcd"), 1);
    assertThat(notYet.pieces).containsExactly("", "", "", "a", "");
    assertThat(stream(gpt2, prompt, gpt2.encode("abcd"), List.of("bc", "abcd"), 1).text()).isEmpty();
  }

  @Test
  void aMultiByteStopStringSplitAcrossByteTokensIsFound() {
    TextTokenizer llama = tokenizer(TestModels.TINY_LLAMA);
    int[] prompt = llama.encode("Say:");
    int[] generated = continuation(llama, prompt, "Say: café 🦙 日本語");

    Streamed streamed = stream(llama, prompt, generated, List.of("本", "🦙 日"), 1);

    assertThat(streamed.text()).isEqualTo(" café ");
    assertThat(streamed.ending.stopped()).isTrue();
    assertThat(String.join("", streamed.pieces)).doesNotContain("\uFFFD");
  }

  @Test
  void afterAStopStringNothingMoreIsEmittedAndTheStreamSaysItStopped() {
    TextTokenizer gpt2 = tokenizer(TestModels.TINY_GPT2);
    TextStream stream = new TextStream(gpt2, gpt2.encode(">"), List.of("."));

    assertThat(stream.append(gpt2.encode("one. two"))).isEqualTo("one");
    assertThat(stream.stopped()).isTrue();
    assertThat(stream.append(gpt2.encode(" three"))).isEmpty();
    assertThat(stream.finish()).isEqualTo(new TextStream.Ending("", true));
  }

  @Test
  void aStreamWithoutTokensEndsWithNoText() {
    TextTokenizer llama = tokenizer(TestModels.TINY_LLAMA);
    assertThat(new TextStream(llama, llama.encode("This"), List.of("x")).finish())
        .isEqualTo(new TextStream.Ending("", false));
  }

  @Test
  void theStopStringFoundFirstInTheTextCutsItWhateverItsPlaceInTheList() {
    assertThat(TextStream.earliestStop(" applies to any program", List.of("program", "to", "any"))).isEqualTo(9);
    assertThat(TextStream.earliestStop("abc", List.of("x", "", "c"))).isEqualTo(2);
    assertThat(TextStream.earliestStop("abc", List.of("", "x"))).isEqualTo(-1);
    assertThat(TextStream.earliestStop("abc", List.of())).isEqualTo(-1);
  }

  // ---- Properties, checked after every step ----

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2})
  void realTextSplitIntoPromptAndContinuationAnywhereStreamsExactly(String model) {
    TextTokenizer tokenizer = tokenizer(model);
    Random random = new Random(7);
    for (String text : TEXTS) {
      int[] ids = tokenizer.encode(text);
      for (int split = 0; split < ids.length; split++) {
        int[] prompt = Arrays.copyOf(ids, split);
        int[] generated = Arrays.copyOfRange(ids, split, ids.length);
        check(tokenizer, prompt, generated, List.of(), random);
        check(tokenizer, prompt, generated, stopsFrom(tokenizer.continuation(prompt, generated), random), random);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2})
  void randomTokensNeverEmitTextThatALaterTokenChanges(String model) {
    TextTokenizer tokenizer = tokenizer(model);
    Random random = new Random(11);
    int vocab = 1024;
    for (int family = 0; family < 60; family++) {
      // One prefix, several futures: what a step emits depends only on the tokens so far, so it must be a prefix
      // of every future's final text.
      int[] prefix = random.ints(random.nextInt(24), 0, vocab).toArray();
      int promptLength = random.nextInt(prefix.length + 1);
      List<String> stops = null;
      for (int future = 0; future < 4; future++) {
        int[] tail = random.ints(random.nextInt(24), 0, vocab).toArray();
        int[] ids = concat(prefix, tail);
        int[] prompt = Arrays.copyOf(ids, promptLength);
        int[] generated = Arrays.copyOfRange(ids, promptLength, ids.length);
        if (stops == null) {
          stops = stopsFrom(tokenizer.continuation(prompt, generated), random);
        }
        check(tokenizer, prompt, generated, List.of(), random);
        check(tokenizer, prompt, generated, stops, random);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2})
  void realTextWithStrayBytesAndSpecialTokensStreamsExactly(String model) {
    TextTokenizer tokenizer = tokenizer(model);
    Random random = new Random(13);
    List<Integer> specials = IntStream.range(0, 1024).filter(tokenizer::isSkipped).boxed().toList();
    assertThat(specials).isNotEmpty();
    for (int round = 0; round < 40; round++) {
      for (String text : TEXTS) {
        List<Integer> ids = new ArrayList<>(Arrays.stream(tokenizer.encode(text)).boxed().toList());
        for (int inserts = random.nextInt(4); inserts > 0; inserts--) {
          int at = random.nextInt(ids.size() + 1);
          if (random.nextBoolean()) {
            ids.add(at, strayByte(tokenizer, random));
          } else {
            for (int n = 1 + random.nextInt(8); n > 0; n--) {
              ids.add(at, specials.get(random.nextInt(specials.size())));
            }
          }
        }
        int[] all = ids.stream().mapToInt(Integer::intValue).toArray();
        int split = random.nextInt(all.length);
        int[] prompt = Arrays.copyOf(all, split);
        int[] generated = Arrays.copyOfRange(all, split, all.length);
        check(tokenizer, prompt, generated, stopsFrom(tokenizer.continuation(prompt, generated), random), random);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {TestModels.TINY_LLAMA, TestModels.TINY_GPT2})
  void aLongGenerationDecodesOnlyAFewRecentTokensEachStep(String model) {
    TextTokenizer tokenizer = tokenizer(model);
    String text = String.join(" ", TEXTS).repeat(8);
    int[] ids = tokenizer.encode(text);
    assertThat(ids.length).isGreaterThan(2000);
    int[] prompt = Arrays.copyOf(ids, 200);
    TextStream stream = new TextStream(tokenizer, prompt, List.of("never there"));
    StringBuilder streamed = new StringBuilder();
    int widest = 0;
    for (int i = prompt.length; i < ids.length; i++) {
      streamed.append(stream.append(ids[i]));
      widest = Math.max(widest, stream.lastDecoded());
    }
    streamed.append(stream.finish().text());

    assertThat(streamed.toString()).isEqualTo(tokenizer.continuation(prompt, Arrays.copyOfRange(ids, 200,
        ids.length)));
    // The context, the tokens before the window moves, and the longest unfinished character or byte run
    // ("日本語の" is 12 byte tokens for tiny-llama).
    assertThat(widest).isLessThanOrEqualTo(TextStream.MOVE_WINDOW_AFTER + TextStream.CONTEXT_TOKENS + 14);
  }

  /**
   * Streams {@code generated} in random chunks and checks, after every step, what the issue asks of the stream;
   * at the end, that the pieces joined are the completion's text.
   */
  private static void check(TextTokenizer tokenizer, int[] prompt, int[] generated, List<String> stops,
      Random random) {
    String completion = cut(tokenizer.continuation(prompt, generated), stops);
    String context = "prompt " + Arrays.toString(prompt) + ", generated " + Arrays.toString(generated)
        + ", stops " + stops.stream().map(TextStreamTest::visible).toList();
    TextStream stream = new TextStream(tokenizer, prompt, stops);
    StringBuilder emitted = new StringBuilder();
    int step = 0;
    while (step < generated.length) {
      int next = Math.min(generated.length, step + 1 + random.nextInt(3));
      String piece = stream.append(Arrays.copyOfRange(generated, step, next));
      step = next;
      String soFar = tokenizer.continuation(prompt, Arrays.copyOf(generated, step));
      String why = context + ", after " + step + " tokens: emitted " + visible(emitted + piece) + ", text so far "
          + visible(soFar);

      // U+FFFD only where the completion has it too: never a character still missing bytes.
      for (int i = piece.indexOf(REPLACEMENT); i >= 0; i = piece.indexOf(REPLACEMENT, i + 1)) {
        assertThat(completion.charAt(emitted.length() + i)).as(why).isEqualTo(REPLACEMENT);
      }
      emitted.append(piece);
      // Everything emitted is final: the completion begins with it (so no stop string leaked either).
      assertThat(completion).as(why).startsWith(emitted.toString());
      // Text that could still begin a stop string, or contains one, is not out yet.
      for (int at = 0; at < emitted.length() && at < soFar.length(); at++) {
        String rest = soFar.substring(at);
        for (String stop : stops) {
          assertThat(rest.startsWith(stop) || stop.startsWith(rest)).as(why + ", stop at " + at).isFalse();
        }
      }
      // And nothing is held back without a reason: without stop strings, all the text so far is out unless its
      // last character may still change.
      if (stops.isEmpty() && !mayStillChange(tokenizer, prompt, generated, step, soFar)) {
        assertThat(emitted.toString()).as(why).isEqualTo(soFar);
      }
      if (stream.stopped()) {
        assertThat(emitted.toString()).as(why).isEqualTo(completion);
      }
    }
    TextStream.Ending ending = stream.finish();
    emitted.append(ending.text());
    assertThat(emitted.toString()).as(context).isEqualTo(completion);
    assertThat(ending.stopped()).as(context)
        .isEqualTo(TextStream.earliestStop(tokenizer.continuation(prompt, generated), stops) >= 0);
  }

  /** Whether the text so far ends in what a later token may change: a U+FFFD, or an open byte run. */
  private static boolean mayStillChange(TextTokenizer tokenizer, int[] prompt, int[] generated, int step,
      String soFar) {
    if (!soFar.isEmpty() && soFar.charAt(soFar.length() - 1) == REPLACEMENT) {
      return true;
    }
    int[] all = concat(prompt, Arrays.copyOf(generated, step));
    for (int i = all.length - 1; i >= 0; i--) {
      if (!tokenizer.isSkipped(all[i])) {
        return tokenizer.isFallbackByte(all[i]);
      }
    }
    return false;
  }

  /**
   * Stop strings for a text: pieces of it that straddle tokens and characters, multi-byte ones, pairs that
   * overlap ("ab" and "bc" from "abc"), and some it does not contain. From none to three of them.
   */
  private static List<String> stopsFrom(String text, Random random) {
    int[] codePoints = text.codePoints().toArray();
    List<String> stops = new ArrayList<>();
    int count = random.nextInt(4);
    while (stops.size() < count) {
      int kind = random.nextInt(4);
      if (kind == 0 || codePoints.length < 3) {
        stops.add(List.of("日本", "🦙", "\n\n", "zzq", "é", "\uFFFD", " a").get(random.nextInt(7)));
        continue;
      }
      int start = random.nextInt(codePoints.length - 2);
      int end = Math.min(codePoints.length, start + 1 + random.nextInt(4));
      String piece = new String(codePoints, start, end - start);
      if (kind == 1 || end - start < 2) {
        stops.add(piece);
      } else {
        // Two stops that overlap: the piece's first part and its last part.
        int firstEnd = piece.offsetByCodePoints(0, Math.max(1, piece.codePointCount(0, piece.length()) - 1));
        stops.add(piece.substring(0, firstEnd));
        stops.add(piece.substring(piece.offsetByCodePoints(0, 1)));
      }
    }
    return stops;
  }

  private static int strayByte(TextTokenizer tokenizer, Random random) {
    if (tokenizer.isFallbackByte(LLAMA_BYTE_0)) {
      return llamaByte(0x80 + random.nextInt(0x80)); // a continuation byte, or a lead byte of a longer character
    }
    // tiny-gpt2's first 256 ids are its bytes; 0x80 and up are never a character alone.
    int[] highBytes = IntStream.range(0, 256).filter(id -> tokenizer.decode(new int[] {id}).equals("\uFFFD"))
        .toArray();
    return highBytes[random.nextInt(highBytes.length)];
  }

  private static int llamaByte(int value) {
    return LLAMA_BYTE_0 + value;
  }

  private static String cut(String text, List<String> stops) {
    int cut = -1;
    for (String stop : stops) {
      int at = stop.isEmpty() ? -1 : text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
      }
    }
    return cut < 0 ? text : text.substring(0, cut);
  }

  private static Streamed stream(TextTokenizer tokenizer, int[] prompt, int[] generated, List<String> stops,
      int chunk) {
    TextStream stream = new TextStream(tokenizer, prompt, stops);
    List<String> pieces = new ArrayList<>();
    for (int i = 0; i < generated.length; i += chunk) {
      pieces.add(stream.append(Arrays.copyOfRange(generated, i, Math.min(generated.length, i + chunk))));
    }
    TextStream.Ending ending = stream.finish();
    pieces.add(ending.text());
    return new Streamed(pieces, ending);
  }

  private record Streamed(List<String> pieces, TextStream.Ending ending) {
    String text() {
      return String.join("", pieces);
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static String visible(String s) {
    return "\"" + s.codePoints().mapToObj(cp -> cp >= 32 && cp < 127 ? Character.toString(cp)
        : String.format("\\u{%x}", cp)).collect(Collectors.joining()) + "\"";
  }
}
