package io.aigc.gateway;

import static io.aigc.gateway.BatchClient.completionLine;
import static io.aigc.gateway.BatchClient.jsonl;
import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.error;
import static io.aigc.gateway.TestHttp.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.GenerationRequest;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Batch API against a real broker, the rest of the pipeline played by {@link FakePipeline}: uploads, a batch's
 * lines becoming jobs with ids derived from the batch and custom_id, the output and error files in OpenAI's format,
 * a file that cannot run, cancelling, and who may see what.
 */
@Timeout(90)
class BatchHttpTest {
  /** Under the default body limit of other requests (1 MiB), so an upload's 413 shows which limit it quotes. */
  private static final int MAX_FILE_BYTES = 200_000;

  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.withPipeline().env(Map.of("AIGC_BATCH_MAX_IN_FLIGHT", "5",
      "AIGC_MAX_FILE_BYTES", Integer.toString(MAX_FILE_BYTES)));
  private static BatchClient alice;
  private static BatchClient bob;

  @BeforeAll
  static void clients() {
    alice = new BatchClient(fixture.gateway(), TestKeys.ALICE);
    bob = new BatchClient(fixture.gateway(), TestKeys.BOB);
  }

  @Test
  void aBatchRunsItsLinesAsJobsAndAnswersInOpenAisFormat() throws Exception {
    List<String> lines = new ArrayList<>();
    IntStream.range(0, 12).forEach(i -> lines.add(completionLine("line-" + i, "happy " + i)));
    // A body the endpoint refuses is that line's error, not the batch's.
    lines.add(new JsonObject().put("custom_id", "too-hot").put("method", "POST").put("url", "/v1/completions")
        .put("body", new JsonObject().put("prompt", "happy hot").put("temperature", 5)).encode());
    JsonObject file = json(alice.upload("batch", "happy.jsonl", jsonl(lines)), 200);
    assertThat(file.getString("object")).isEqualTo("file");
    assertThat(file.getString("purpose")).isEqualTo("batch");
    assertThat(file.getString("filename")).isEqualTo("happy.jsonl");

    JsonObject batch = alice.create(file.getString("id"), "/v1/completions");
    assertThat(batch.getString("object")).isEqualTo("batch");
    assertThat(batch.getString("status")).isIn("validating", "in_progress");
    assertThat(batch.getString("completion_window")).isEqualTo("24h");
    String id = batch.getString("id");

    // Never more than AIGC_BATCH_MAX_IN_FLIGHT lines wait at once; each is answered as it comes.
    Set<String> answered = new HashSet<>();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      List<GenerationRequest> mine = fixture.pipeline().requestsPrompted("happy ");
      assertThat(mine.size() - answered.size()).isLessThanOrEqualTo(5);
      for (GenerationRequest r : mine) {
        if (answered.add(r.getRequestId())) {
          fixture.pipeline().complete(FakePipeline.ok(r, " text of " + r.getPrompt(), "stop"));
        }
      }
      return alice.retrieve(id).getString("status").equals("completed");
    });

    JsonObject done = alice.retrieve(id);
    assertThat(done.getJsonObject("request_counts").getMap())
        .isEqualTo(Map.of("total", 13, "completed", 12, "failed", 1));
    for (String at : List.of("created_at", "in_progress_at", "finalizing_at", "completed_at", "expires_at")) {
      assertThat(done.getLong(at)).as(at).isNotNull();
    }
    Map<String, JsonObject> output = alice.lines(done.getString("output_file_id"));
    assertThat(output).hasSize(12);
    for (int i = 0; i < 12; i++) {
      JsonObject line = output.get("line-" + i);
      assertThat(line.getString("id")).startsWith("batch_req_");
      assertThat(line.getValue("error")).isNull();
      JsonObject response = line.getJsonObject("response");
      assertThat(response.getInteger("status_code")).isEqualTo(200);
      String jobId = response.getString("request_id");
      assertThat(jobId).isEqualTo(JobIds.fromBatchLine("cmpl-", id, "line-" + i));
      assertThat(response.getJsonObject("body").getString("object")).isEqualTo("text_completion");
      assertThat(response.getJsonObject("body").getJsonArray("choices").getJsonObject(0).getString("text"))
          .isEqualTo(" text of happy " + i);
      assertThat(fixture.pipeline().timesPublished(jobId)).isEqualTo(1);
    }
    JsonObject refused = alice.lines(done.getString("error_file_id")).get("too-hot");
    assertThat(refused.getJsonObject("response").getInteger("status_code")).isEqualTo(400);
    assertThat(refused.getJsonObject("response").getJsonObject("body").getJsonObject("error").getString("param"))
        .isEqualTo("temperature");

    // The output files are files of their own, and another key sees none of it.
    JsonObject outputFile = json(fixture.get("/v1/files/" + done.getString("output_file_id"),
        "Authorization", bearer(TestKeys.ALICE)), 200);
    assertThat(outputFile.getString("purpose")).isEqualTo("batch_output");
    error(fixture.get("/v1/batches/" + id, "Authorization", bearer(TestKeys.BOB)), 404);
    error(fixture.get("/v1/files/" + done.getString("output_file_id") + "/content", "Authorization",
        bearer(TestKeys.BOB)), 404);
    assertThat(json(fixture.get("/v1/batches?limit=100", "Authorization", bearer(TestKeys.ALICE)), 200)
        .getJsonArray("data").stream().map(b -> ((JsonObject) b).getString("id"))).contains(id);
    assertThat(json(fixture.get("/v1/batches", "Authorization", bearer(TestKeys.BOB)), 200)
        .getJsonArray("data").stream().map(b -> ((JsonObject) b).getString("id"))).doesNotContain(id);
  }

  @Test
  void aFileThatCannotRunFailsTheBatchWithItsErrors() throws Exception {
    String file = alice.uploadBatchFile(jsonl(List.of(completionLine("same", "x"), "not json",
        completionLine("same", "y"), new JsonObject().put("custom_id", "chat").put("method", "POST")
            .put("url", "/v1/chat/completions").put("body", new JsonObject()).encode())));
    String id = alice.create(file, "/v1/completions").getString("id");
    JsonObject failed = alice.awaitStatus(id, "failed");
    assertThat(failed.getLong("failed_at")).isNotNull();
    List<String> codes = failed.getJsonObject("errors").getJsonArray("data").stream()
        .map(e -> ((JsonObject) e).getString("code") + "@" + ((JsonObject) e).getInteger("line")).toList();
    assertThat(codes).containsExactly("invalid_json_line@2", "duplicate_custom_id@3", "mismatched_endpoint@4");
    assertThat(failed.getValue("output_file_id")).isNull();
  }

  @Test
  void cancellingStopsTheBatchAndCancelsItsJobs() throws Exception {
    List<String> lines = new ArrayList<>();
    IntStream.range(0, 20).forEach(i -> lines.add(completionLine("c-" + i, "cancel " + i)));
    String id = alice.create(alice.uploadBatchFile(jsonl(lines)), "/v1/completions").getString("id");
    // Five go out (the in-flight bound); one finishes; then the batch is cancelled.
    List<GenerationRequest> out = await().atMost(Duration.ofSeconds(15))
        .until(() -> fixture.pipeline().requestsPrompted("cancel "), l -> l.size() == 5);
    fixture.pipeline().complete(FakePipeline.ok(out.get(0), " done", "stop"));
    await().atMost(Duration.ofSeconds(15)).until(() -> alice.retrieve(id).getJsonObject("request_counts")
        .getInteger("completed") == 1);
    assertThat(alice.cancel(id).getString("status")).isEqualTo("cancelling");
    // The workers answer a cancelled job with a cancellation (one more line may have gone out as the first ended).
    Set<String> answered = new HashSet<>(Set.of(out.get(0).getRequestId()));
    JsonObject cancelled = await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).until(() -> {
      for (GenerationRequest r : fixture.pipeline().requestsPrompted("cancel ")) {
        if (answered.add(r.getRequestId())) {
          fixture.pipeline().complete(FakePipeline.failed(r, ErrorCodes.CANCELLED, "cancelled"));
        }
      }
      return alice.retrieve(id);
    }, b -> b.getString("status").equals("cancelled"));
    assertThat(cancelled.getLong("cancelling_at")).isNotNull();
    assertThat(cancelled.getLong("cancelled_at")).isNotNull();
    assertThat(alice.lines(cancelled.getString("output_file_id"))).hasSize(1);
    Map<String, JsonObject> errors = alice.lines(cancelled.getString("error_file_id"));
    assertThat(errors).hasSize(19);
    assertThat(errors.values().stream().filter(l -> l.getValue("response") == null)
        .map(l -> l.getJsonObject("error").getString("code")).distinct()).containsExactly("batch_cancelled");
    assertThat(fixture.pipeline().requestsPrompted("cancel ")).hasSizeBetween(5, 6);
    error(fixture.post("/v1/batches/" + id + "/cancel", "", "Authorization", bearer(TestKeys.BOB)), 404);
  }

  @Test
  void anUploadOverTheFileLimitIsRefusedWithThatLimit() throws Exception {
    JsonObject tooLarge = error(alice.upload("batch", "big.jsonl", "x".repeat(MAX_FILE_BYTES + 1)), 400);
    assertThat(tooLarge.getString("code")).isEqualTo("request_too_large");
    assertThat(tooLarge.getString("message")).isEqualTo("The request body exceeds " + MAX_FILE_BYTES + " bytes.");
    alice.uploadBatchFile(completionLine("a", "b") + "\n"); // and the next upload is served as usual
  }

  @Test
  void anOutputExpiryIsCheckedAndGivenToTheBatchsOutputFile() throws Exception {
    String prompt = "expiring " + UUID.randomUUID();
    String file = alice.uploadBatchFile(completionLine("e", prompt) + "\n");
    for (Object expiry : List.of("1h", new JsonObject().put("anchor", "now").put("seconds", 3600),
        new JsonObject().put("anchor", "created_at").put("seconds", 60),
        new JsonObject().put("anchor", "created_at").put("seconds", 2_592_001),
        new JsonObject().put("anchor", "created_at").put("seconds", 3600).put("extra", 1))) {
      assertThat(error(createWithExpiry(file, expiry), 400).getString("param")).as("%s", expiry)
          .isEqualTo("output_expires_after");
    }

    JsonObject batch = json(createWithExpiry(file, new JsonObject().put("anchor", "created_at").put("seconds", 3600)),
        200);
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    fixture.pipeline().complete(FakePipeline.ok(request, " gone within the hour", "stop"));
    JsonObject done = alice.awaitStatus(batch.getString("id"), "completed");

    JsonObject output = json(fixture.get("/v1/files/" + done.getString("output_file_id"), "Authorization",
        bearer(TestKeys.ALICE)), 200);
    assertThat(output.getLong("expires_at")).isEqualTo(output.getLong("created_at") + 3600);
    // An upload has no expiry: it stays until deleted.
    assertThat(json(fixture.get("/v1/files/" + file, "Authorization", bearer(TestKeys.ALICE)), 200)
        .getValue("expires_at")).isNull();
  }

  private HttpResponse<String> createWithExpiry(String file, Object expiry) throws Exception {
    return fixture.post("/v1/batches", new JsonObject().put("input_file_id", file).put("endpoint", "/v1/completions")
        .put("completion_window", "24h").put("output_expires_after", expiry).encode(),
        "Authorization", bearer(TestKeys.ALICE));
  }

  @Test
  void badRequestsGetOpenAiErrors() throws Exception {
    assertThat(error(alice.upload("fine-tune", "x.jsonl", "{}"), 400).getString("param")).isEqualTo("purpose");
    String file = alice.uploadBatchFile(completionLine("a", "b") + "\n");
    JsonObject wrongWindow = error(fixture.post("/v1/batches", new JsonObject().put("input_file_id", file)
        .put("endpoint", "/v1/completions").put("completion_window", "1h").encode(),
        "Authorization", bearer(TestKeys.ALICE)), 400);
    assertThat(wrongWindow.getString("param")).isEqualTo("completion_window");
    JsonObject wrongEndpoint = error(fixture.post("/v1/batches", new JsonObject().put("input_file_id", file)
        .put("endpoint", "/v1/embeddings").put("completion_window", "24h").encode(),
        "Authorization", bearer(TestKeys.ALICE)), 400);
    assertThat(wrongEndpoint.getString("param")).isEqualTo("endpoint");
    // Bob cannot run Alice's file.
    error(fixture.post("/v1/batches", new JsonObject().put("input_file_id", file).put("endpoint", "/v1/completions")
        .put("completion_window", "24h").encode(), "Authorization", bearer(TestKeys.BOB)), 404);
    error(fixture.get("/v1/batches/batch_nothing", "Authorization", bearer(TestKeys.ALICE)), 404);
    // A file is listed, retrieved and deleted.
    assertThat(json(fixture.get("/v1/files", "Authorization", bearer(TestKeys.ALICE)), 200).getJsonArray("data")
        .stream().map(f -> ((JsonObject) f).getString("id"))).contains(file);
    JsonObject deleted = json(TestHttp.send(fixture.request("/v1/files/" + file, "Authorization",
        bearer(TestKeys.ALICE)).DELETE()), 200);
    assertThat(deleted.getBoolean("deleted")).isTrue();
    error(fixture.get("/v1/files/" + file, "Authorization", bearer(TestKeys.ALICE)), 404);
    assertThat(bob.key()).isEqualTo(TestKeys.BOB);
  }
}
