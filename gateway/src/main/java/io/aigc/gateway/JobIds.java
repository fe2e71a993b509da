package io.aigc.gateway;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * Job ids, which are also the request ids on every topic: {@code cmpl-} (or {@code chatcmpl-} for chat, as OpenAI
 * names them) and 24 URL-safe characters (144 bits).
 */
final class JobIds {
  static final String PREFIX = "cmpl-";
  static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
  private static final int ID_BYTES = 18;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

  private JobIds() {}

  static String random() {
    return random(PREFIX);
  }

  static String random(String prefix) {
    byte[] bytes = new byte[ID_BYTES];
    RANDOM.nextBytes(bytes);
    return prefix + BASE64.encodeToString(bytes);
  }

  /**
   * The id a job submitted with this {@code Idempotency-Key} by this caller gets on every gateway instance, so a
   * retry that lands on another instance names the same job and the postprocessor's per-id dedup yields one
   * completion. The caller's key name is part of it: two callers who happen to pick the same key get two jobs, and
   * neither can reach the other's. {@code owner} is null without API keys ({@code AIGC_AUTH=none}); the two
   * prefixes differ and names contain no {@code :}, so no owner and key spell another's.
   */
  static String fromIdempotencyKey(String owner, String key) {
    String scoped = owner == null ? "aigc-idempotency-key:" + key : "aigc-idempotency-key/" + owner + ":" + key;
    return PREFIX + digest(scoped);
  }

  private static String digest(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return BASE64.encodeToString(Arrays.copyOf(digest, ID_BYTES));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /**
   * The job of line {@code customId} of batch {@code batchId}, the same every time it is asked for: a gateway that
   * resumes a batch after a restart names the jobs it already submitted, and a line published twice anyway yields
   * one completion (the postprocessor's per-id dedup).
   */
  static String fromBatchLine(String prefix, String batchId, String customId) {
    return prefix + digest("aigc-batch/" + batchId + ":" + customId);
  }

  /** Checks a client's {@code Idempotency-Key}: 1 to 255 visible ASCII characters. */
  static String checkIdempotencyKey(String key) {
    if (key.isEmpty() || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH
        || !key.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
      throw ApiError.invalid("Idempotency-Key", "invalid_idempotency_key",
          "The Idempotency-Key header must be 1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " visible ASCII characters.");
    }
    return key;
  }
}
