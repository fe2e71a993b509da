package io.aigc.gateway;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/** API keys for tests, configured the way an operator does: {@code name:sha256hex}, computed independently here. */
final class TestKeys {
  static final String ALICE = "sk-alice-3f9c2b7e1d";
  static final String BOB = "sk-bob-8a41d0c6e2";

  private TestKeys() {}

  /** The configuration entry for {@code key} under {@code name}, as {@code printf %s KEY | sha256sum} gives it. */
  static String entry(String name, String key) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return name + ":" + HexFormat.of().formatHex(hash);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code AIGC_API_KEYS} for alice and bob. */
  static String aliceAndBob() {
    return entry("alice", ALICE) + "," + entry("bob", BOB);
  }
}
