package io.aigc.gateway;

import static io.aigc.gateway.BatchClient.completionLine;
import static io.aigc.gateway.BatchClient.jsonl;
import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.json;
import static io.aigc.gateway.TestHttp.metric;
import static io.aigc.gateway.TestHttp.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.Topics;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a batch survives and what it leaves others: a gateway restarted mid-batch finishes it from its data folder
 * without submitting any line twice; a batch paces itself under the backlog bound while interactive requests keep
 * being accepted; a batch whose window passes expires with what it finished.
 */
@Timeout(120)
class BatchRecoveryTest {
  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.pipelineOnly();
  private GatewayService gateway;

  @AfterEach
  void stopGateway() {
    if (gateway != null) {
      gateway.close();
    }
  }


  @Test
  void aGatewayRestartedMidBatchFinishesItAndSubmitsNothingTwice() throws Exception {
    Path data = Files.createTempDirectory("aigc-batch-restart");
    Map<String, String> env = Map.of("AIGC_DATA_DIR", data.toString(), "AIGC_BATCH_MAX_IN_FLIGHT", "4");
    gateway = fixture.startGateway(env);
    BatchClient alice = new BatchClient(gateway, TestKeys.ALICE);
    String file = alice.uploadBatchFile(jsonl(IntStream.range(0, 10)
        .mapToObj(i -> completionLine("r-" + i, "restart " + i)).toList()));
    String id = alice.create(file, "/v1/completions").getString("id");
    String mine = "restart ";

    // Two lines finish, and four are in flight when the gateway stops; one of those finishes while it is down.
    List<GenerationRequest> first = await().atMost(Duration.ofSeconds(15))
        .until(() -> fixture.pipeline().requestsPrompted(mine), l -> l.size() == 4);
    fixture.pipeline().complete(FakePipeline.ok(first.get(0), " a", "stop"));
    fixture.pipeline().complete(FakePipeline.ok(first.get(1), " b", "stop"));
    await().atMost(Duration.ofSeconds(15)).until(() -> fixture.pipeline().requestsPrompted(mine).size() == 6
        && alice.retrieve(id).getJsonObject("request_counts").getInteger("completed") == 2);
    gateway.close();
    fixture.pipeline().complete(FakePipeline.ok(first.get(2), " c", "stop"));

    gateway = fixture.startGateway(env);
    BatchClient again = new BatchClient(gateway, TestKeys.ALICE);
    Set<String> answered = new HashSet<>(List.of(first.get(0).getRequestId(), first.get(1).getRequestId(),
        first.get(2).getRequestId()));
    JsonObject done = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      for (GenerationRequest r : fixture.pipeline().requestsPrompted(mine)) {
        if (answered.add(r.getRequestId())) {
          fixture.pipeline().complete(FakePipeline.ok(r, " more", "stop"));
        }
      }
      return again.retrieve(id);
    }, b -> b.getString("status").equals("completed"));

    assertThat(done.getJsonObject("request_counts").getMap())
        .isEqualTo(Map.of("total", 10, "completed", 10, "failed", 0));
    Map<String, JsonObject> output = again.lines(done.getString("output_file_id"));
    assertThat(output.keySet()).hasSize(10);
    for (int i = 0; i < 10; i++) {
      String jobId = JobIds.fromBatchLine("cmpl-", id, "r-" + i);
      assertThat(output.get("r-" + i).getJsonObject("response").getString("request_id")).isEqualTo(jobId);
      assertThat(fixture.pipeline().timesPublished(jobId)).as("r-%d published", i).isEqualTo(1);
    }
    // The input file is still there after the restart too.
    assertThat(json(TestHttp.get(gateway, "/v1/files/" + file, "Authorization", bearer(TestKeys.ALICE)), 200)
        .getLong("bytes")).isPositive();
  }

  @Test
  void aBatchStaysUnderItsShareOfTheBacklogAndInteractiveCallersGoFirst() throws Exception {
    fixture.commitToEnd("aigc-tokenizer", Topics.defaults().requests().name());
    gateway = fixture.startGateway(Map.of("AIGC_MAX_BACKLOG", "8", "AIGC_BACKLOG_INTERVAL", "100ms",
        "AIGC_BATCH_BACKLOG_SHARE", "0.5"));
    BatchClient alice = new BatchClient(gateway, TestKeys.ALICE);
    String id = alice.create(alice.uploadBatchFile(jsonl(IntStream.range(0, 30)
        .mapToObj(i -> completionLine("p-" + i, "paced " + i)).toList())), "/v1/completions").getString("id");
    String mine = "paced ";

    // Nobody takes the requests: the backlog reaches the batch's share (4 of 8) and the batch waits there.
    await().atMost(Duration.ofSeconds(15)).until(() -> metric(gateway, "aigc_gateway_backlog") == 4);
    await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
        .until(() -> fixture.pipeline().requestsPrompted(mine).size() == 4);
    // An interactive caller is still accepted: the rest of the bound is theirs.
    for (int i = 0; i < 3; i++) {
      json(post(gateway, "/v1/jobs", new JsonObject().put("prompt", "interactive " + i).put("max_tokens", 4)
          .encode(), "Authorization", bearer(TestKeys.ALICE)), 202);
    }
    assertThat(alice.retrieve(id).getString("status")).isEqualTo("in_progress");

    // The tokenizer catches up: the batch goes on, and finishes.
    Set<String> answered = new HashSet<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      fixture.commitToEnd("aigc-tokenizer", Topics.defaults().requests().name());
      for (GenerationRequest r : fixture.pipeline().requestsPrompted(mine)) {
        if (answered.add(r.getRequestId())) {
          fixture.pipeline().complete(FakePipeline.ok(r, " paced", "stop"));
        }
      }
      return alice.retrieve(id).getString("status").equals("completed");
    });
    assertThat(metric(gateway, "aigc_gateway_rejected_total{reason=\"backlog\"}")).isZero();
  }

  @Test
  void aBatchWhoseWindowPassesExpiresWithWhatItFinished() throws Exception {
    gateway = fixture.startGateway(Map.of("AIGC_BATCH_COMPLETION_WINDOW", "2s", "AIGC_BATCH_MAX_IN_FLIGHT", "2"));
    BatchClient alice = new BatchClient(gateway, TestKeys.ALICE);
    String id = alice.create(alice.uploadBatchFile(jsonl(IntStream.range(0, 5)
        .mapToObj(i -> completionLine("e-" + i, "expiring " + i)).toList())), "/v1/completions").getString("id");
    GenerationRequest one = fixture.pipeline().awaitRequest(FakePipeline.prompted("expiring"));
    fixture.pipeline().complete(FakePipeline.ok(one, " in time", "stop"));

    JsonObject expired = alice.awaitStatus(id, "expired");
    assertThat(expired.getLong("expired_at")).isNotNull();
    assertThat(expired.getJsonObject("request_counts").getMap())
        .isEqualTo(Map.of("total", 5, "completed", 1, "failed", 4));
    assertThat(alice.lines(expired.getString("output_file_id"))).hasSize(1);
    Map<String, JsonObject> errors = alice.lines(expired.getString("error_file_id"));
    assertThat(errors).hasSize(4);
    assertThat(errors.values()).allSatisfy(l -> {
      assertThat(l.getValue("response")).isNull();
      assertThat(l.getJsonObject("error").getString("code")).isEqualTo("batch_expired");
    });
  }
}
