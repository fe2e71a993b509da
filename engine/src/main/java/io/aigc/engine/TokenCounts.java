package io.aigc.engine;

import java.util.Arrays;

/**
 * How many times each token occurs, kept up to date one token at a time: the penalties read it at every step, so
 * it must not be recounted from the whole history. Distinct tokens are listed in the order they first came, so
 * reading them costs their number, not the vocabulary's size. Confined to the engine thread.
 */
final class TokenCounts {
  private int[] tokens = new int[16];
  private int[] counts = new int[16];
  private int size;
  /** Open addressing: position in {@code tokens} plus one, 0 for an empty slot; kept at most half full. */
  private int[] index = new int[32];

  void add(int token) {
    int slot = slot(token);
    int position = index[slot] - 1;
    if (position >= 0) {
      counts[position]++;
      return;
    }
    if (size == tokens.length) {
      tokens = Arrays.copyOf(tokens, size * 2);
      counts = Arrays.copyOf(counts, size * 2);
    }
    tokens[size] = token;
    counts[size] = 1;
    index[slot] = ++size;
    if (size * 2 > index.length) {
      rehash();
    }
  }

  /** Distinct tokens seen. */
  int size() {
    return size;
  }

  /** The {@code i}th distinct token, in order of first occurrence. */
  int token(int i) {
    return tokens[i];
  }

  /** Occurrences of the {@code i}th distinct token. */
  int count(int i) {
    return counts[i];
  }

  /** Occurrences of {@code token}, 0 if never seen. */
  int countOf(int token) {
    int position = index[slot(token)] - 1;
    return position >= 0 ? counts[position] : 0;
  }

  /** The slot holding {@code token}, or the empty slot where it would go. */
  private int slot(int token) {
    int mask = index.length - 1;
    for (int slot = mix(token) & mask; ; slot = (slot + 1) & mask) {
      int position = index[slot] - 1;
      if (position < 0 || tokens[position] == token) {
        return slot;
      }
    }
  }

  private void rehash() {
    index = new int[index.length * 2];
    for (int i = 0; i < size; i++) {
      index[slot(tokens[i])] = i + 1;
    }
  }

  private static int mix(int token) {
    int h = token * 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}
