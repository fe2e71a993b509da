package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.model.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalProcessesTest {
  @Test
  void theBannerStartsWithThePlaygroundsAddress() {
    String banner = LocalProcesses.banner("tiny-llama", "127.0.0.1:9092", 8080, Path.of("/repo/.local/api-key"),
        9101, 9102, 9103);
    assertThat(banner.lines().filter(l -> !l.isBlank()).skip(1).findFirst())
        .hasValue("  playground: http://127.0.0.1:8080/ (its API key: /repo/.local/api-key)");
    assertThat(banner).contains("curl -s localhost:8080/v1/completions -H \"Authorization: Bearer $(cat "
        + "/repo/.local/api-key)\" \\\n");
    assertThat(LocalProcesses.banner("m", "k:1", 18080, null, 1, 2, 3))
        .contains("  playground: http://127.0.0.1:18080/\n", "curl -s localhost:18080/v1/completions \\\n");
  }

  /**
   * What {@code deploy/local/run.sh} starts by default, on what it starts it on: the broker and the four services in
   * one JVM, on the launcher's runtime classpath (its {@code target/lib}), which lacks what only tests bring. A chat
   * exercises the chat template, whose Jinja engine needs a YAML library at run time.
   */
  @Test
  void theEmbeddedDefaultStartsOnTheLaunchersOwnClasspathAndAnswersAChat() throws Exception {
    Path home = Path.of("target/processes/embedded-default").toAbsolutePath();
    TestPipeline.deleteQuietly(home);
    Files.createDirectories(home);
    try (ProcessCluster cluster = ProcessCluster.start(ProcessCluster.Settings
        .defaults(home, TestProcessCluster.runtimeClasspath("deploy/local"), ProcessCluster.Layout.ONE_JVM).withFreePorts()
        .withRestart(false)
        .withEnv(Map.of("AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(), "AIGC_AUTH", "none")))) {
      cluster.awaitReady(Duration.ofMinutes(3));
      HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + cluster.settings().httpPort() + "/v1/chat/completions"))
          .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 4}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(answer.body()).contains("\"object\":\"chat.completion\"");
    }
  }
}
