package io.aigc.engine;

/**
 * Orders tokens by logit, highest first, ties by lower id, through one long per token, so a primitive sort or
 * comparison orders them and equal logits never leave the order to chance. Token ids must fit in 24 bits.
 */
final class ByLogit {
  static final int MAX_TOKENS = 1 << 24;

  private ByLogit() {}

  /** A key that is smaller the higher {@code logit} is, then the lower {@code token} is. */
  static long key(float logit, int token) {
    int bits = Float.floatToIntBits(logit);
    int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // monotonic in the float's value
    long descending = 0xffffffffL - (ordered + 0x80000000L); // larger logits get smaller keys
    return (descending << 24) | token;
  }

  static int token(long key) {
    return (int) (key & 0xffffff);
  }
}
