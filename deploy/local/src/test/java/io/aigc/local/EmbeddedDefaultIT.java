package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's first command, as a new user runs it: {@code deploy/local/run.sh}, on the jar and {@code lib/} the
 * build packaged (this runs after packaging, under Maven's failsafe), answers the README's request and a chat, with
 * the API key it made itself, and stops with everything it started on SIGTERM. Only the ports and the data folder
 * differ from the defaults, so that it runs beside anything else on the machine.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class EmbeddedDefaultIT {
  private static final Duration START = Duration.ofMinutes(3);
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void runShStartsAnswersAndStopsWithEverythingItStarted() throws Exception {
    Path home = Commands.ROOT.resolve("deploy/local/target/embedded-default-it");
    TestPipeline.deleteQuietly(home);
    Files.createDirectories(home);
    ProcessCluster.Settings ports = ProcessCluster.Settings.defaults(home, "", ProcessCluster.Layout.ONE_JVM)
        .withFreePorts();
    ProcessBuilder builder = new ProcessBuilder(Commands.ROOT.resolve("deploy/local/run.sh").toString())
        .redirectErrorStream(true).redirectOutput(home.resolve("run.log").toFile());
    builder.environment().putAll(Map.of(
        "AIGC_LOCAL_DIR", home.resolve("local").toString(),
        "AIGC_KAFKA_PORT", String.valueOf(ports.kafkaPort()),
        "AIGC_HTTP_PORT", String.valueOf(ports.httpPort()),
        "AIGC_TOKENIZER_METRICS_PORT", String.valueOf(ports.metricsPorts().get("tokenizer-service")),
        "AIGC_WORKER_METRICS_PORT", String.valueOf(ports.metricsPorts().get("inference-worker")),
        "AIGC_POSTPROCESSOR_METRICS_PORT", String.valueOf(ports.metricsPorts().get("postprocessor"))));
    builder.environment().remove("AIGC_MODEL_DIR");
    Process run = builder.start();
    List<ProcessHandle> started = List.of();
    try {
      awaitReady(run, ports.httpPort(), home.resolve("run.log"));
      started = run.descendants().toList();
      String key = Files.readString(home.resolve("local/api-key")).strip();

      HttpResponse<String> text = post(ports.httpPort(), key, "/v1/completions",
          "{\"prompt\": \"You may make and give copies\", \"max_tokens\": 32, \"temperature\": 0}");
      assertThat(text.statusCode()).as(text.body()).isEqualTo(200);
      assertThat(text.body()).contains("\"text\":\" of the work in or for the recipients of the Document.\"");
      HttpResponse<String> chat = post(ports.httpPort(), key, "/v1/chat/completions",
          "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 4}");
      assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
      assertThat(chat.body()).contains("\"object\":\"chat.completion\"");
    } finally {
      run.destroy();
      boolean exited = run.waitFor(90, TimeUnit.SECONDS);
      if (!exited) {
        run.destroyForcibly();
      }
      assertThat(exited).as("run.sh exits on SIGTERM").isTrue();
      for (ProcessHandle child : started) {
        child.onExit().get(30, TimeUnit.SECONDS);
      }
      assertThat(started).as("what run.sh started, once it exited").noneMatch(ProcessHandle::isAlive);
    }
  }

  private void awaitReady(Process run, int port, Path log) throws Exception {
    long deadline = System.nanoTime() + START.toNanos();
    while (System.nanoTime() < deadline) {
      String output = Files.readString(log);
      assertThat(run.isAlive()).as("run.sh is running; its output:\n%s", output).isTrue();
      // Its supervisor restarts a process that dies, which would then never be ready: the first death fails it.
      assertThat(output).as("run.sh's output").doesNotContain(" exited with code ");
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      }
      Thread.sleep(500); // another process's probe: there is no event to await
    }
    throw new AssertionError("not ready within " + START + "; run.sh's output:\n" + Files.readString(log));
  }

  private HttpResponse<String> post(int port, String key, String path, String json) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
