package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.cli.AigcMain;
import io.aigc.model.testing.TestModels;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.testing.TopicReader;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.Topics;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code aigc} command line against a real broker and the four services: a batch file answered line by line, a
 * batch stopped half-way and resumed without a line published twice, and a replay of a time window compared with
 * the original completions. The launcher ({@code bin/aigc}) is run as a process once, to be stopped with SIGINT as
 * Ctrl-C stops it; the rest run the command in this JVM, a flag standing for Ctrl-C.
 */
@Timeout(180)
class CommandLineTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension
  static final PerClass<TestPipeline> pipeline = TestPipeline.perClass();
  @TempDir
  Path dir;
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Test
  void aBatchAnswersEveryLineInOpenAisBatchOutputFormatAndRefusesWhatTheApiRefuses() throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      String body = i % 3 == 0
          ? "{\"messages\": [{\"role\": \"user\", \"content\": \"What may I do " + i + "?\"}], \"max_tokens\": 6, "
              + "\"min_tokens\": 2, \"temperature\": 0}"
          : "{\"prompt\": \"You may convey " + i + "\", \"max_tokens\": 6, \"temperature\": 0}";
      String url = i % 3 == 0 ? "/v1/chat/completions" : "/v1/completions";
      if (i == 7) {
        body = "{\"prompt\": \"too hot\", \"temperature\": 3}";
      }
      lines.add("{\"custom_id\": \"line-" + i + "\", \"method\": \"POST\", \"url\": \"" + url + "\", \"body\": " + body
          + "}");
    }
    Path input = write("input.jsonl", lines);
    Path output = dir.resolve("results.jsonl");

    int exit = aigc(() -> false, "batch", input.toString(), "-o", output.toString());

    assertThat(exit).as("a batch with a failed line exits 3; stderr: %s", err).isEqualTo(3);
    Map<String, JsonNode> answers = answers(output);
    assertThat(Files.readAllLines(output)).hasSize(50);
    assertThat(answers.keySet()).isEqualTo(IntStream.range(0, 50).mapToObj(i -> "line-" + i).collect(
        Collectors.toSet()));
    JsonNode refused = answers.get("line-7");
    assertThat(refused.get("response").get("status_code").asInt()).isEqualTo(400);
    assertThat(refused.get("response").get("request_id").isNull()).isTrue();
    assertThat(refused.get("response").get("body").get("error").get("message").asText())
        .isEqualTo("Invalid 'temperature': expected a number between 0 and 2, but got 3 instead.");
    for (int i = 0; i < 50; i++) {
      if (i == 7) {
        continue;
      }
      JsonNode answer = answers.get("line-" + i);
      JsonNode response = answer.get("response");
      assertThat(answer.get("id").asText()).startsWith("batch_req_");
      assertThat(answer.get("error").isNull()).isTrue();
      assertThat(response.get("status_code").asInt()).as("line-%d: %s", i, answer).isEqualTo(200);
      JsonNode body = response.get("body");
      assertThat(body.get("id").asText()).isEqualTo(response.get("request_id").asText());
      assertThat(body.get("object").asText()).isEqualTo(i % 3 == 0 ? "chat.completion" : "text_completion");
      assertThat(body.get("model").asText()).isEqualTo(TestModels.TINY_LLAMA);
      assertThat(body.get("choices")).hasSize(1);
      assertThat(body.get("usage").get("completion_tokens").asInt()).isBetween(1, 6);
    }
    assertThat(dir.resolve("results.jsonl.state")).exists();
  }

  @Test
  void aStoppedBatchResumesAndNoLineIsPublishedTwice() throws IOException {
    List<String> lines = IntStream.range(0, 40).mapToObj(i -> "{\"custom_id\": \"r-" + i + "\", \"method\": \"POST\", "
        + "\"url\": \"/v1/completions\", \"body\": {\"prompt\": \"Permission is hereby granted " + i
        + "\", \"max_tokens\": 16, \"temperature\": 0, \"ignore_eos\": true}}").toList();
    Path input = write("input.jsonl", lines);
    Path output = dir.resolve("out.jsonl");

    // Stopped as Ctrl-C stops it, once ten lines are answered, with jobs still in flight.
    int first = aigc(() -> lineCount(output) >= 10, "batch", input.toString(), "-o", output.toString(),
        "--max-outstanding", "6");
    int answeredFirst = lineCount(output);
    int second = aigc(() -> false, "batch", input.toString(), "-o", output.toString(), "--max-outstanding", "6");
    int third = aigc(() -> false, "batch", input.toString(), "-o", output.toString());

    assertThat(first).as("stderr: %s", err).isEqualTo(130);
    assertThat(answeredFirst).isBetween(10, 39);
    assertThat(second).as("stderr: %s", err).isZero();
    assertThat(third).as("a finished batch run again has nothing to do").isZero();
    List<String> written = Files.readAllLines(output);
    Map<String, JsonNode> answers = answers(output);
    assertThat(written).hasSize(40);
    assertThat(answers).hasSize(40);
    Set<String> ids = answers.values().stream().map(a -> a.get("response").get("request_id").asText())
        .collect(Collectors.toSet());
    assertThat(ids).hasSize(40);
    Map<String, Integer> published = publishedCounts(ids);
    assertThat(published).as("request records per job id on the requests topic").hasSize(40)
        .allSatisfy((id, count) -> assertThat(count).as(id).isEqualTo(1));
  }

  @Test
  void ctrlCStopsTheLauncherWithItsFilesWholeAndTheSameCommandResumes() throws Exception {
    List<String> lines = IntStream.range(0, 30).mapToObj(i -> "{\"custom_id\": \"c-" + i + "\", \"method\": \"POST\", "
        + "\"url\": \"/v1/completions\", \"body\": {\"prompt\": \"You may charge " + i + "\", \"max_tokens\": 16, "
        + "\"temperature\": 0, \"ignore_eos\": true}}").toList();
    Path input = write("input.jsonl", lines);
    Path output = dir.resolve("signalled.jsonl");
    ProcessBuilder builder = new ProcessBuilder(Commands.ROOT.resolve("bin/aigc").toString(), "batch",
        input.toString(), "-o", output.toString(), "--max-outstanding", "4")
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(dir.resolve("stdout").toFile()).redirectError(dir.resolve("stderr").toFile());
    builder.environment().putAll(pipeline.get().clientEnv());
    // SIGINT, as Ctrl-C sends it. A process started with SIGINT ignored (a background job of a script, as CI may be)
    // passes that on and the JVM keeps it ignored: there, SIGTERM, which the JVM's shutdown takes the same way.
    boolean interruptible = !sigintIgnored();
    Process aigc = builder.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> lineCount(output) >= 5 || !aigc.isAlive());
      new ProcessBuilder("kill", interruptible ? "-INT" : "-TERM", Long.toString(aigc.pid())).start().waitFor();
      assertThat(aigc.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      aigc.destroyForcibly();
    }

    String stderr = Files.readString(dir.resolve("stderr"));
    assertThat(aigc.exitValue()).as("stderr: %s", stderr).isEqualTo(interruptible ? 130 : 143);
    assertThat(stderr).contains("run the same command again to resume");
    int answered = lineCount(output);
    assertThat(answered).isBetween(5, 29);
    assertThat(answers(output)).as("every line whole").hasSize(answered);
    assertThat(aigc(() -> false, "batch", input.toString(), "-o", output.toString())).as("stderr: %s", err).isZero();
    Map<String, JsonNode> answers = answers(output);
    assertThat(Files.readAllLines(output)).hasSize(30);
    assertThat(answers).hasSize(30);
    Set<String> ids = answers.values().stream().map(a -> a.get("response").get("request_id").asText())
        .collect(Collectors.toSet());
    assertThat(publishedCounts(ids)).hasSize(30).allSatisfy((id, count) -> assertThat(count).as(id).isEqualTo(1));
  }

  @Test
  void aReplayOfAWindowRepublishesItsRequestsAndComparesTheirCompletions() throws IOException {
    Instant from = Instant.now().minusSeconds(1);
    String task = "audit-" + UUID.randomUUID();
    List<String> lines = IntStream.range(0, 6).mapToObj(i -> "{\"custom_id\": \"a-" + i + "\", \"method\": \"POST\", "
        + "\"url\": \"/v1/completions\", \"body\": {\"prompt\": \"Each contributor " + i + "\", \"max_tokens\": 12, "
        + "\"temperature\": 0, \"metadata\": {\"task\": \"" + task + "\"}}}").toList();
    // A request of another task in the same window, which --task leaves out.
    Path other = write("other.jsonl", List.of("{\"custom_id\": \"x\", \"method\": \"POST\", \"url\": "
        + "\"/v1/completions\", \"body\": {\"prompt\": \"Other\", \"max_tokens\": 4}}"));
    assertThat(aigc(() -> false, "batch", write("audit.jsonl", lines).toString(), "-o",
        dir.resolve("audit-out.jsonl").toString())).isZero();
    assertThat(aigc(() -> false, "batch", other.toString(), "-o", dir.resolve("other-out.jsonl").toString())).isZero();
    Set<String> oldIds = answers(dir.resolve("audit-out.jsonl")).values().stream()
        .map(a -> a.get("response").get("request_id").asText()).collect(Collectors.toSet());

    Path report = dir.resolve("report.json");
    int exit = aigc(() -> false, "replay", "--from", from.toString(), "--to", "now", "--task", task, "--model",
        TestModels.TINY_LLAMA, "-o", report.toString());

    assertThat(exit).as("stderr: %s", err).isZero();
    JsonNode json = JSON.readTree(report.toFile());
    assertThat(json.get("requests").asInt()).isEqualTo(6);
    assertThat(json.get("counts").get("identical").asInt()).as("greedy on the same model: %s", json).isEqualTo(6);
    assertThat(json.get("counts").get("changed").asInt()).isZero();
    assertThat(json.get("counts").get("error").asInt()).isZero();
    Map<String, String> replayOf = new HashMap<>();
    for (JsonNode row : json.get("rows")) {
      replayOf.put(row.get("new_id").asText(), row.get("old_id").asText());
      assertThat(row.get("new").get("finish_reasons")).isEqualTo(row.get("old").get("finish_reasons"));
      assertThat(row.get("new").get("chars")).isEqualTo(row.get("old").get("chars"));
    }
    assertThat(Set.copyOf(replayOf.values())).isEqualTo(oldIds);
    // The replays are new jobs on the requests topic, each naming its original and the model asked for.
    for (GenerationRequest replayed : requests(replayOf.keySet())) {
      assertThat(replayed.getMetadata()).containsEntry("replay_of", replayOf.get(replayed.getRequestId()))
          .containsEntry("task", task);
      assertThat(replayed.getModel()).isEqualTo(TestModels.TINY_LLAMA);
    }

    // On a model the deployment does not serve, every replay fails; the earlier replays are not replayed again.
    Path failing = dir.resolve("failing.json");
    assertThat(aigc(() -> false, "replay", "--from", from.toString(), "--task", task, "--model", "no-such-model",
        "-o", failing.toString())).as("stderr: %s", err).isZero();
    JsonNode failed = JSON.readTree(failing.toFile());
    assertThat(failed.get("requests").asInt()).isEqualTo(6);
    assertThat(failed.get("skipped_replays").asInt()).isEqualTo(6);
    assertThat(failed.get("counts").get("error").asInt()).isEqualTo(6);
    assertThat(failed.get("counts").get("new_errors").asInt()).isEqualTo(6);
    assertThat(failed.get("rows").get(0).get("new").get("error_code").asText()).isEqualTo("model_not_found");
  }

  private int aigc(BooleanSupplier stop, String... args) {
    return AigcMain.execute(Env.of(pipeline.get().clientEnv()), stop,
        new PrintStream(err, true, StandardCharsets.UTF_8), args);
  }

  /** Whether this process ignores SIGINT (bit 2 of the SigIgn mask), which the processes it starts inherit. */
  private static boolean sigintIgnored() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("SigIgn:"))
        .map(l -> (Long.parseUnsignedLong(l.substring("SigIgn:".length()).strip(), 16) & 0x2) != 0)
        .findFirst().orElse(false);
  }

  private Path write(String name, List<String> lines) throws IOException {
    return Files.write(dir.resolve(name), lines);
  }

  private static int lineCount(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static Map<String, JsonNode> answers(Path output) throws IOException {
    Map<String, JsonNode> answers = new HashMap<>();
    for (String line : Files.readAllLines(output)) {
      JsonNode answer = JSON.readTree(line);
      answers.put(answer.get("custom_id").asText(), answer);
    }
    return answers;
  }

  private static List<ConsumerRecord<String, byte[]>> requestRecords(Set<String> ids) {
    KafkaSettings kafka = KafkaSettings.fromEnv(Env.of(pipeline.get().clientEnv()));
    return TopicReader.readCommittedUntil(kafka, List.of("generation.requests"), seen -> seen.stream()
        .map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(ids)).stream()
        .filter(r -> ids.contains(r.key())).toList();
  }

  private static Map<String, Integer> publishedCounts(Set<String> ids) {
    Map<String, Integer> counts = new HashMap<>();
    requestRecords(ids).forEach(r -> counts.merge(r.key(), 1, Integer::sum));
    return counts;
  }

  private static List<GenerationRequest> requests(Set<String> ids) {
    List<GenerationRequest> requests = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (ConsumerRecord<String, byte[]> record : requestRecords(ids)) {
      if (seen.add(record.key())) {
        requests.add(Topics.defaults().requests().valueSerde().decode(record.value()));
      }
    }
    return requests;
  }
}
