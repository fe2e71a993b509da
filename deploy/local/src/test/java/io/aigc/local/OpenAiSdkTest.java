package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client nobody here wrote: the official {@code openai} npm SDK ({@code src/test/node}, its version pinned in a
 * committed lockfile) against the whole pipeline: models, completions and chat, whole and streamed, n > 1 streamed,
 * a stop string in a stream, {@code include_usage}, the SDK's own error types for a bad request and a wrong key, and
 * the Batch API (a 200-line batch through {@code files.create}, {@code batches.create}, {@code batches.retrieve} and
 * {@code files.content}; a chat batch with a bad line; a cancelled batch).
 * The checks are in {@code sdk.test.mjs}; this runs them on Node and reports each.
 */
class OpenAiSdkTest {
  @RegisterExtension
  static final PerClass<TestPipeline> pipeline = TestPipeline.perClass(() -> {
    Commands.requireNodePackage("openai");
    return Map.of();
  });

  @Test
  void theOfficialSdkWorksUnchanged() {
    Commands.nodeChecks("sdk.test.mjs",
        Map.of("OPENAI_BASE_URL", "http://127.0.0.1:" + pipeline.get().gatewayPort() + "/v1",
            "OPENAI_API_KEY", pipeline.get().apiKey(),
            "AIGC_MODEL", "tiny-llama"),
        Duration.ofMinutes(3), 12);
    assertThat(Commands.NODE_DIR.resolve("package-lock.json")).isRegularFile();
  }
}
