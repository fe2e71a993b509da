package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client nobody here wrote: the official {@code openai} npm SDK ({@code src/test/node}, its version pinned in a
 * committed lockfile) against the whole pipeline: models, completions and chat, whole and streamed, n > 1 streamed,
 * a stop string in a stream, {@code include_usage}, the SDK's own error types for a bad request and a wrong key, and
 * the Batch API (a 200-line batch through {@code files.create}, {@code batches.create}, {@code batches.retrieve} and
 * {@code files.content}; a chat batch with a bad line; a cancelled batch).
 * The checks are in {@code sdk.test.mjs}; this runs them on Node and reports each.
 */
class OpenAiSdkTest {
  static final Path NODE_DIR = Commands.ROOT.resolve("deploy/local/src/test/node");
  static final String INSTALL = "npm ci --prefix deploy/local/src/test/node";
  static TestPipeline pipeline;

  @BeforeAll
  static void startPipeline() throws Exception {
    // Fails, never skips: CI installs the SDK (.ci/run), and a skipped client test proves nothing.
    assertThat(NODE_DIR.resolve("node_modules/openai/package.json"))
        .as("the openai SDK is not installed: run `%s` (CI does)", INSTALL).exists();
    pipeline = TestPipeline.start();
  }

  @AfterAll
  static void stopPipeline() {
    if (pipeline != null) {
      pipeline.close();
    }
  }

  @Test
  void theOfficialSdkWorksUnchanged() throws Exception {
    Commands.Result result = Commands.run(List.of("node", NODE_DIR.resolve("sdk.test.mjs").toString()),
        Map.of("OPENAI_BASE_URL", "http://127.0.0.1:" + pipeline.gatewayPort() + "/v1",
            "OPENAI_API_KEY", pipeline.apiKey(),
            "AIGC_MODEL", "tiny-llama"),
        Duration.ofMinutes(3));
    List<String> lines = result.out().lines().toList();
    assertThat(lines.stream().filter(l -> l.startsWith("not ok"))).as("%s", result).isEmpty();
    assertThat(lines.stream().filter(l -> l.startsWith("ok - "))).as("%s", result).hasSize(12);
    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(Files.isRegularFile(NODE_DIR.resolve("package-lock.json"))).isTrue();
  }
}
