package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The playground page in a real browser against the whole pipeline: headless Chromium (Debian's {@code chromium})
 * driven by {@code playwright-core} from npm ({@code src/test/node}, pinned in the committed lockfile; it downloads no
 * browser). The checks are in {@code playground.test.mjs}: the key prompt, a prompt and a chat streamed into the page
 * equal to the API's answers, an invalid setting showing the API's error, the pipeline panel under load, stop
 * cancelling the job, and a screenshot.
 *
 * <p>The screenshot is kept in {@code target/playground/playground.png}; with {@code -Daigc.updateScreenshot=true}
 * the test also rewrites the README's {@code docs/playground.png}.
 */
class PlaygroundBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path SCREENSHOT = Path.of("target/playground/playground.png");
  static final Path README_SCREENSHOT = Commands.ROOT.resolve("docs/playground.png");
  static TestPipeline pipeline;

  @BeforeAll
  static void startPipeline() throws Exception {
    // Fails, never skips: CI installs both (.ci/run), and a skipped browser test proves nothing.
    assertThat(OpenAiSdkTest.NODE_DIR.resolve("node_modules/playwright-core/package.json"))
        .as("playwright-core is not installed: run `%s` (CI does)", OpenAiSdkTest.INSTALL).exists();
    assertThat(CHROMIUM).as("Chromium is missing: apt-get install -y chromium (CI does)").isExecutable();
    pipeline = TestPipeline.start();
  }

  @AfterAll
  static void stopPipeline() {
    if (pipeline != null) {
      pipeline.close();
    }
  }

  @Test
  void thePlaygroundWorksInABrowser() throws Exception {
    Files.createDirectories(SCREENSHOT.toAbsolutePath().getParent());
    Files.deleteIfExists(SCREENSHOT);
    List<String> screenshots = new ArrayList<>(List.of(SCREENSHOT.toAbsolutePath().toString()));
    if (Boolean.getBoolean("aigc.updateScreenshot")) {
      screenshots.add(README_SCREENSHOT.toString());
    }
    Commands.Result result = Commands.run(
        List.of("node", OpenAiSdkTest.NODE_DIR.resolve("playground.test.mjs").toString()),
        Map.of("AIGC_BASE_URL", "http://127.0.0.1:" + pipeline.gatewayPort(),
            "AIGC_API_KEY", pipeline.apiKey(),
            "AIGC_WORKER_METRICS_URL", "http://127.0.0.1:" + pipeline.metricsPort("inference-worker") + "/metrics",
            "AIGC_SCREENSHOTS", String.join(",", screenshots),
            "CHROMIUM", CHROMIUM.toString()),
        Duration.ofMinutes(4));
    List<String> lines = result.out().lines().toList();
    assertThat(lines.stream().filter(l -> l.startsWith("not ok"))).as("%s", result).isEmpty();
    assertThat(lines.stream().filter(l -> l.startsWith("ok - "))).as("%s", result).hasSize(7);
    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(SCREENSHOT).as("the screenshot artifact").isNotEmptyFile();
    assertThat(README_SCREENSHOT).as("the README's screenshot").isNotEmptyFile();
  }
}
