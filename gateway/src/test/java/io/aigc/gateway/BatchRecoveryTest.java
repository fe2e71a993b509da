package io.aigc.gateway;

import static io.aigc.gateway.BatchClient.completionLine;
import static io.aigc.gateway.BatchClient.jsonl;
import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.json;
import static io.aigc.gateway.TestHttp.metric;
import static io.aigc.gateway.TestHttp.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.testing.EmbeddedKafka;
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
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a batch survives and what it leaves others: a gateway restarted mid-batch finishes it from its data folder
 * without submitting any line twice; a batch paces itself under the backlog bound while interactive requests keep
 * being accepted; a batch whose window passes expires with what it finished.
 */
@Timeout(120)
class BatchRecoveryTest {
  private static EmbeddedKafka kafka;
  private static KafkaSettings settings;
  private static FakePipeline pipeline;
  private GatewayService gateway;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    settings = KafkaSettings.fromEnv(Env.of(kafka.env()));
    // The gateway creates the topics; the fake pipeline needs them first.
    TestGateway.start(kafka, Map.of()).close();
    pipeline = new FakePipeline(settings, Topics.defaults());
  }

  @AfterEach
  void stopGateway() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @AfterAll
  static void stop() {
    if (pipeline != null) {
      pipeline.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void aGatewayRestartedMidBatchFinishesItAndSubmitsNothingTwice() throws Exception {
    Path data = Files.createTempDirectory("aigc-batch-restart");
    Map<String, String> env = Map.of("AIGC_DATA_DIR", data.toString(), "AIGC_BATCH_MAX_IN_FLIGHT", "4");
    gateway = TestGateway.start(kafka, env);
    BatchClient alice = new BatchClient(gateway, TestKeys.ALICE);
    String file = alice.uploadBatchFile(jsonl(IntStream.range(0, 10)
        .mapToObj(i -> completionLine("r-" + i, "restart " + i)).toList()));
    String id = alice.create(file, "/v1/completions").getString("id");
    Predicate<GenerationRequest> mine = r -> r.getPrompt() != null && r.getPrompt().startsWith("restart ");

    // Two lines finish, and four are in flight when the gateway stops; one of those finishes while it is down.
    List<GenerationRequest> first = await().atMost(Duration.ofSeconds(15))
        .until(() -> pipeline.requests().stream().filter(mine).toList(), l -> l.size() == 4);
    pipeline.complete(FakePipeline.ok(first.get(0), " a", "stop"));
    pipeline.complete(FakePipeline.ok(first.get(1), " b", "stop"));
    await().atMost(Duration.ofSeconds(15)).until(() -> pipeline.requests().stream().filter(mine).count() == 6
        && alice.retrieve(id).getJsonObject("request_counts").getInteger("completed") == 2);
    gateway.close();
    pipeline.complete(FakePipeline.ok(first.get(2), " c", "stop"));

    gateway = TestGateway.start(kafka, env);
    BatchClient again = new BatchClient(gateway, TestKeys.ALICE);
    Set<String> answered = new HashSet<>(List.of(first.get(0).getRequestId(), first.get(1).getRequestId(),
        first.get(2).getRequestId()));
    JsonObject done = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      for (GenerationRequest r : pipeline.requests().stream().filter(mine).toList()) {
        if (answered.add(r.getRequestId())) {
          pipeline.complete(FakePipeline.ok(r, " more", "stop"));
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
      assertThat(pipeline.timesPublished(jobId)).as("r-%d published", i).isEqualTo(1);
    }
    // The input file is still there after the restart too.
    assertThat(json(TestHttp.get(gateway, "/v1/files/" + file, "Authorization", bearer(TestKeys.ALICE)), 200)
        .getLong("bytes")).isPositive();
  }

  @Test
  void aBatchStaysUnderItsShareOfTheBacklogAndInteractiveCallersGoFirst() throws Exception {
    commitToEnd("aigc-tokenizer", Topics.defaults().requests().name());
    gateway = TestGateway.start(kafka, Map.of("AIGC_MAX_BACKLOG", "8", "AIGC_BACKLOG_INTERVAL", "100ms",
        "AIGC_BATCH_BACKLOG_SHARE", "0.5"));
    BatchClient alice = new BatchClient(gateway, TestKeys.ALICE);
    String id = alice.create(alice.uploadBatchFile(jsonl(IntStream.range(0, 30)
        .mapToObj(i -> completionLine("p-" + i, "paced " + i)).toList())), "/v1/completions").getString("id");
    Predicate<GenerationRequest> mine = r -> r.getPrompt() != null && r.getPrompt().startsWith("paced ");

    // Nobody takes the requests: the backlog reaches the batch's share (4 of 8) and the batch waits there.
    await().atMost(Duration.ofSeconds(15)).until(() -> metric(gateway, "aigc_gateway_backlog") == 4);
    await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
        .until(() -> pipeline.requests().stream().filter(mine).count() == 4);
    // An interactive caller is still accepted: the rest of the bound is theirs.
    for (int i = 0; i < 3; i++) {
      json(post(gateway, "/v1/jobs", new JsonObject().put("prompt", "interactive " + i).put("max_tokens", 4)
          .encode(), "Authorization", bearer(TestKeys.ALICE)), 202);
    }
    assertThat(alice.retrieve(id).getString("status")).isEqualTo("in_progress");

    // The tokenizer catches up: the batch goes on, and finishes.
    Set<String> answered = new HashSet<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      commitToEnd("aigc-tokenizer", Topics.defaults().requests().name());
      for (GenerationRequest r : pipeline.requests().stream().filter(mine).toList()) {
        if (answered.add(r.getRequestId())) {
          pipeline.complete(FakePipeline.ok(r, " paced", "stop"));
        }
      }
      return alice.retrieve(id).getString("status").equals("completed");
    });
    assertThat(metric(gateway, "aigc_gateway_rejected_total{reason=\"backlog\"}")).isZero();
  }

  @Test
  void aBatchWhoseWindowPassesExpiresWithWhatItFinished() throws Exception {
    gateway = TestGateway.start(kafka, Map.of("AIGC_BATCH_COMPLETION_WINDOW", "2s", "AIGC_BATCH_MAX_IN_FLIGHT", "2"));
    BatchClient alice = new BatchClient(gateway, TestKeys.ALICE);
    String id = alice.create(alice.uploadBatchFile(jsonl(IntStream.range(0, 5)
        .mapToObj(i -> completionLine("e-" + i, "expiring " + i)).toList())), "/v1/completions").getString("id");
    GenerationRequest one = pipeline.awaitRequest(r -> r.getPrompt() != null && r.getPrompt().startsWith("expiring"));
    pipeline.complete(FakePipeline.ok(one, " in time", "stop"));

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

  /** What the tokenizer does once it has read everything: commit its group's end offsets. */
  private static void commitToEnd(String group, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings.consumer(group, group + "-test"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position);
      consumer.commitSync(Duration.ofSeconds(10));
    }
  }
}
