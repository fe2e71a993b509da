package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
  @RegisterExtension
  static final PerClass<TestPipeline> pipeline = TestPipeline.perClass(() -> {
    // Fails, never skips: CI installs both (.ci/run), and a skipped browser test proves nothing.
    Commands.requireNodePackage("playwright-core");
    assertThat(CHROMIUM).as("Chromium is missing: apt-get install -y chromium (CI does)").isExecutable();
    return Map.of();
  });

  @Test
  void thePlaygroundWorksInABrowser() throws Exception {
    Files.createDirectories(SCREENSHOT.toAbsolutePath().getParent());
    Files.deleteIfExists(SCREENSHOT);
    List<String> screenshots = new ArrayList<>(List.of(SCREENSHOT.toAbsolutePath().toString()));
    if (Boolean.getBoolean("aigc.updateScreenshot")) {
      screenshots.add(README_SCREENSHOT.toString());
    }
    Commands.nodeChecks("playground.test.mjs",
        Map.of("AIGC_BASE_URL", "http://127.0.0.1:" + pipeline.get().gatewayPort(),
            "AIGC_API_KEY", pipeline.get().apiKey(),
            "AIGC_WORKER_METRICS_URL", "http://127.0.0.1:" + pipeline.get().metricsPort("inference-worker")
                + "/metrics",
            "AIGC_SCREENSHOTS", String.join(",", screenshots),
            "CHROMIUM", CHROMIUM.toString()),
        Duration.ofMinutes(4), 8);
    assertThat(SCREENSHOT).as("the screenshot artifact").isNotEmptyFile();
    assertThat(README_SCREENSHOT).as("the README's screenshot").isNotEmptyFile();
  }
}
