package io.aigc.gateway;

import static io.aigc.gateway.BatchClient.completionLine;
import static io.aigc.gateway.BatchClient.jsonl;
import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.error;
import static io.aigc.gateway.TestHttp.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.schemas.GenerationRequest;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Gateways scaled out behind one address, one of which holds the files and batches: the others forward
 * {@code /v1/files} and {@code /v1/batches} to it ({@code AIGC_BATCH_GATEWAY_URL}), so a caller may send each call of
 * a batch's life to any gateway and sees one Batch API.
 */
@Timeout(90)
class BatchForwardingHttpTest {
  private static final int MAX_FILE_BYTES = 2_000_000;
  /** The gateway that holds the files and batches. */
  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.withPipeline()
      .env(Map.of("AIGC_MAX_FILE_BYTES", Integer.toString(MAX_FILE_BYTES)));
  /** A gateway that holds none, and forwards. */
  private static GatewayService forwarding;
  private static Path forwardingDataDir;

  @BeforeAll
  static void startTheForwardingGateway() throws Exception {
    forwardingDataDir = Files.createTempDirectory("aigc-forwarding-gateway");
    forwarding = fixture.startGateway(Map.of("AIGC_BATCH_GATEWAY_URL",
        "http://127.0.0.1:" + fixture.gateway().httpPort(), "AIGC_DATA_DIR", forwardingDataDir.toString()));
  }

  @AfterAll
  static void stop() {
    forwarding.close();
  }

  @Test
  void aBatchMadeThroughOneGatewayIsTheSameBatchOnTheOther() throws Exception {
    BatchClient viaForwarding = new BatchClient(forwarding, TestKeys.ALICE);
    BatchClient viaHolder = new BatchClient(fixture.gateway(), TestKeys.ALICE);
    List<String> lines = IntStream.range(0, 4).mapToObj(i -> completionLine("f-" + i, "forwarded " + i)).toList();
    String input = jsonl(lines);

    JsonObject file = json(viaForwarding.upload("batch", "forwarded.jsonl", input), 200);
    assertThat(json(fixture.get("/v1/files/" + file.getString("id"), "Authorization", bearer(TestKeys.ALICE)), 200))
        .as("the upload, as the holder tells it").isEqualTo(file);
    assertThat(TestHttp.get(forwarding, "/v1/files/" + file.getString("id") + "/content", "Authorization",
        bearer(TestKeys.ALICE)).body()).as("the content, streamed back through the forwarding gateway")
        .isEqualTo(input);

    String id = viaForwarding.create(file.getString("id"), "/v1/completions").getString("id");
    Set<String> answered = new HashSet<>();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      for (GenerationRequest r : fixture.pipeline().requestsPrompted("forwarded ")) {
        if (answered.add(r.getRequestId())) {
          fixture.pipeline().complete(FakePipeline.ok(r, " text", "stop"));
        }
      }
      return viaHolder.retrieve(id).getString("status").equals("completed");
    });
    JsonObject done = viaForwarding.retrieve(id);
    assertThat(done).isEqualTo(viaHolder.retrieve(id));
    assertThat(viaForwarding.lines(done.getString("output_file_id"))).containsOnlyKeys("f-0", "f-1", "f-2", "f-3");
    try (var held = Files.list(forwardingDataDir)) {
      assertThat(held).as("what the forwarding gateway keeps itself").isEmpty();
    }
  }

  @Test
  void aLargeUploadStreamsThroughBothWays() throws Exception {
    BatchClient viaForwarding = new BatchClient(forwarding, TestKeys.ALICE);
    // About 1.5 MB: many reads and writes on each side, more than any one buffer holds.
    String input = jsonl(IntStream.range(0, 12_000).mapToObj(i -> completionLine("big-" + i, "large " + i)).toList());
    assertThat(input.length()).isBetween(1_000_000, MAX_FILE_BYTES);
    String id = json(viaForwarding.upload("batch", "large.jsonl", input), 200).getString("id");
    assertThat(TestHttp.get(forwarding, "/v1/files/" + id + "/content", "Authorization", bearer(TestKeys.ALICE))
        .body()).isEqualTo(input);
    assertThat(json(TestHttp.send(TestHttp.builder(forwarding, "/v1/files/" + id, "Authorization",
        bearer(TestKeys.ALICE)).DELETE()), 200).getBoolean("deleted")).isTrue();
    error(fixture.get("/v1/files/" + id, "Authorization", bearer(TestKeys.ALICE)), 404);

    String tooLarge = input + input;
    JsonObject refused = error(viaForwarding.upload("batch", "too-large.jsonl", tooLarge), 400);
    assertThat(refused.getString("code")).isEqualTo("request_too_large");
    assertThat(refused.getString("message")).as("the holder's own answer, with its limit")
        .contains(Integer.toString(MAX_FILE_BYTES));
  }

  @Test
  void keysAreCheckedOnBothGatewaysAndTheHoldersErrorsComeBackAsTheyWere() throws Exception {
    error(TestHttp.get(forwarding, "/v1/batches"), 401);
    JsonObject notFound = error(TestHttp.get(forwarding, "/v1/batches/batch_nope", "Authorization",
        bearer(TestKeys.BOB)), 404);
    assertThat(notFound).isEqualTo(error(fixture.get("/v1/batches/batch_nope", "Authorization",
        bearer(TestKeys.BOB)), 404));
    String alices = new BatchClient(forwarding, TestKeys.ALICE).uploadBatchFile(jsonl(List.of(
        completionLine("only", "x"))));
    error(TestHttp.get(forwarding, "/v1/files/" + alices, "Authorization", bearer(TestKeys.BOB)), 404);
    assertThat(TestHttp.send(TestHttp.builder(forwarding, "/v1/batches/x", "Authorization", bearer(TestKeys.ALICE))
        .PUT(HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(405);
  }

  @Test
  void anUnreachableHolderIsA502InOpenAisShapeWhileTheRestOfTheApiServes() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    try (GatewayService cut = fixture.startGateway(Map.of("AIGC_BATCH_GATEWAY_URL", "http://127.0.0.1:" + closed))) {
      JsonObject refused = error(TestHttp.get(cut, "/v1/batches", "Authorization", bearer(TestKeys.ALICE)), 502);
      assertThat(refused.getString("code")).isEqualTo("bad_gateway");
      assertThat(refused.getString("message")).doesNotContain(Integer.toString(closed));
      assertThat(TestHttp.get(cut, "/v1/models", "Authorization", bearer(TestKeys.ALICE)).statusCode())
          .isEqualTo(200);
    }
  }
}
