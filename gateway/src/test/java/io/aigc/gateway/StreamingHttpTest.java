package io.aigc.gateway;

import static io.aigc.gateway.FakePipeline.last;
import static io.aigc.gateway.FakePipeline.piece;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.schemas.Cancellation;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.TextLogprob;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code "stream": true} over HTTP against a real broker: the test plays the worker (stream events, to the partition
 * the request names) and the postprocessor (completions), and reads the Server-Sent Events as a client does.
 */
@Timeout(60)
class StreamingHttpTest {
  private static final Duration WAIT = TestHttp.WAIT;
  private static final int PARTITION = 1;

  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.withPipeline()
      .env(Map.of("AIGC_STREAM_PARTITION", Integer.toString(PARTITION)));

  @Test
  void aStreamedCompletionSendsItsTextAsTextCompletionChunksThenDone() throws Exception {
    String prompt = "stream me " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/completions", streamBody(prompt).put("max_tokens", 3).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    assertThat(request.getStreamPartition()).isEqualTo(PARTITION);
    assertThat(request.getRequestId()).startsWith("cmpl-");

    fixture.pipeline().stream(request, piece(request, 0, 0, " Once"), piece(request, 0, 1, " upon"),
        last(request, 0, 2, " a", "length", new Usage(4, 3, 7)));
    List<JsonObject> chunks = Sse.of(pending).untilDone();

    long created = request.getCreatedAt() / 1000;
    assertThat(chunks).containsExactly(
        textChunk(request, created, " Once", null),
        textChunk(request, created, " upon", null),
        textChunk(request, created, " a", "length"));
  }

  @Test
  void aStreamedChatAnnouncesTheRoleInterleavesChoicesDropsRepeatsAndEndsWithTheUsage() throws Exception {
    String content = "chat stream " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/chat/completions", chatBody(content).put("n", 2).put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true)).encode());
    GenerationRequest request = awaitChat(content);
    assertThat(request.getRequestId()).startsWith("chatcmpl-");

    fixture.pipeline().stream(request,
        piece(request, 0, 0, "Hel"),
        piece(request, 1, 0, "Good"),
        piece(request, 0, 1, "lo"),
        // A worker crashed and its job is redone from the start: the same events again.
        piece(request, 0, 0, "Hel"),
        piece(request, 1, 0, "Good"),
        piece(request, 0, 1, "lo"),
        last(request, 1, 1, "bye", "stop", new Usage(5, 2, 7)),
        last(request, 0, 2, "!", "length", new Usage(5, 3, 8)));
    List<JsonObject> chunks = Sse.of(pending).untilDone();

    assertThat(chunks).allSatisfy(chunk -> {
      assertThat(chunk.getString("id")).isEqualTo(request.getRequestId());
      assertThat(chunk.getString("object")).isEqualTo("chat.completion.chunk");
      assertThat(chunk.getLong("created")).isEqualTo(request.getCreatedAt() / 1000);
      assertThat(chunk.getString("model")).isEqualTo("tiny-llama");
      assertThat(chunk.containsKey("usage")).as("usage, null but the last, with include_usage").isTrue();
    });
    JsonObject usage = chunks.remove(chunks.size() - 1);
    assertThat(usage.getJsonArray("choices")).isEmpty();
    assertThat(usage.getJsonObject("usage")).isEqualTo(new JsonObject().put("prompt_tokens", 5)
        .put("completion_tokens", 5).put("total_tokens", 10));
    for (int choice = 0; choice < 2; choice++) {
      List<JsonObject> deltas = choiceDeltas(chunks, choice);
      assertThat(deltas.get(0).getJsonObject("delta"))
          .isEqualTo(new JsonObject().put("role", "assistant").put("content", ""));
      assertThat(deltas.stream().filter(d -> d.getValue("finish_reason") != null).count()).isEqualTo(1);
      assertThat(deltas.get(deltas.size() - 1).getString("finish_reason")).isEqualTo(choice == 0 ? "length" : "stop");
      assertThat(content(deltas)).isEqualTo(choice == 0 ? "Hello!" : "Goodbye");
      assertThat(deltas).allSatisfy(d -> assertThat(d.getValue("logprobs")).isNull());
    }
    assertThat(chunks).allSatisfy(chunk -> assertThat(chunk.getValue("usage")).isNull());
  }

  @Test
  void logprobsAreStreamedWithEachPieceInTheShapeOfEachEndpoint() throws Exception {
    String prompt = "logprobs " + UUID.randomUUID();
    var text = Sse.post(fixture.gateway(), "/v1/completions", streamBody(prompt).put("logprobs", 2).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    assertThat(request.getParams().getLogprobs()).isEqualTo(2);
    fixture.pipeline().stream(request,
        FakePipeline.withLogprobs(piece(request, 0, 0, " caf\u00e9"), List.of(token(" caf", -0.5, " caf", " tea"),
            token("\u00e9", -0.25, "\u00e9", "e"))),
        FakePipeline.withLogprobs(last(request, 0, 1, "!", "stop", new Usage(3, 3, 6)),
            List.of(token("!", Double.NEGATIVE_INFINITY, "!"))));
    List<JsonObject> chunks = Sse.of(text).untilDone();

    assertThat(chunks.get(0).getJsonArray("choices").getJsonObject(0).getJsonObject("logprobs"))
        .isEqualTo(new JsonObject()
            .put("tokens", new JsonArray().add(" caf").add("\u00e9"))
            .put("token_logprobs", new JsonArray().add(-0.5).add(-0.25))
            .put("top_logprobs", new JsonArray()
                .add(new JsonObject().put(" caf", -0.5).put(" tea", -1.5))
                .add(new JsonObject().put("\u00e9", -0.25).put("e", -1.25)))
            .put("text_offset", new JsonArray().add(0).add(4)));
    // Offsets go on from the text streamed before; -Infinity is written as OpenAI writes it.
    assertThat(chunks.get(1).getJsonArray("choices").getJsonObject(0).getJsonObject("logprobs"))
        .isEqualTo(new JsonObject()
            .put("tokens", new JsonArray().add("!"))
            .put("token_logprobs", new JsonArray().add(-9999.0))
            .put("top_logprobs", new JsonArray().add(new JsonObject().put("!", -9999.0)))
            .put("text_offset", new JsonArray().add(5)));

    String content = "chat logprobs " + UUID.randomUUID();
    var chat = Sse.post(fixture.gateway(), "/v1/chat/completions", chatBody(content).put("logprobs", true)
        .put("top_logprobs", 1).put("stream", true).encode());
    GenerationRequest chatRequest = awaitChat(content);
    assertThat(chatRequest.getParams().getLogprobs()).isEqualTo(1);
    fixture.pipeline().stream(chatRequest, FakePipeline.withLogprobs(last(chatRequest, 0, 0, "\u00e9", "stop",
        new Usage(3, 1, 4)), List.of(token("\u00e9", -0.25, "\u00e9"))));
    List<JsonObject> chatChunks = Sse.of(chat).untilDone();

    assertThat(chatChunks.get(1).getJsonArray("choices").getJsonObject(0).getJsonObject("logprobs"))
        .isEqualTo(new JsonObject().put("content", new JsonArray().add(new JsonObject()
            .put("token", "\u00e9").put("logprob", -0.25).put("bytes", new JsonArray().add(195).add(169))
            .put("top_logprobs", new JsonArray().add(new JsonObject().put("token", "\u00e9").put("logprob", -0.25)
                .put("bytes", new JsonArray().add(195).add(169)))))));
  }

  @Test
  void anErrorBeforeAnyTextIsAnOrdinaryHttpError() throws Exception {
    String prompt = "too long " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/completions", streamBody(prompt).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    fixture.pipeline().complete(FakePipeline.failed(request, "context_length_exceeded", "The prompt is too long."));

    assertThat(Sse.error(pending, 400)).isEqualTo(new JsonObject()
        .put("error", new JsonObject().put("message", "The prompt is too long.").put("type", "invalid_request_error")
            .putNull("param").put("code", "context_length_exceeded"))
        .put("job_id", request.getRequestId()));
  }

  @Test
  void anInvalidStreamedRequestIsRefusedBeforeAnyJob() throws Exception {
    var pending = Sse.post(fixture.gateway(), "/v1/chat/completions", chatBody("x").put("stream", true)
        .put("model", "gpt-4o").encode());
    assertThat(Sse.error(pending, 404).getJsonObject("error").getString("code")).isEqualTo("model_not_found");
  }

  @Test
  void anErrorAfterTheTextBeganIsAnErrorEventThenDone() throws Exception {
    String prompt = "fails midway " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/completions", streamBody(prompt).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    fixture.pipeline().stream(request, piece(request, 0, 0, " So"),
        FakePipeline.failure(request, "internal_error", "The worker failed."));
    List<JsonObject> chunks = Sse.of(pending).untilDone();

    assertThat(chunks).hasSize(2);
    assertThat(chunks.get(0).getJsonArray("choices").getJsonObject(0).getString("text")).isEqualTo(" So");
    assertThat(chunks.get(1)).isEqualTo(new JsonObject()
        .put("error", new JsonObject().put("message", "The worker failed.").put("type", "server_error")
            .putNull("param").put("code", "internal_error"))
        .put("job_id", request.getRequestId()));
  }

  @Test
  void aFailedCompletionAfterTheTextBeganIsAnErrorEvent() throws Exception {
    String content = "cancelled midway " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/chat/completions", chatBody(content).put("stream", true).encode());
    GenerationRequest request = awaitChat(content);
    fixture.pipeline().stream(request, piece(request, 0, 0, "Well"));
    Sse sse = Sse.of(pending);
    assertThat(sse.nextJson().getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("role"))
        .isEqualTo("assistant");
    assertThat(sse.nextJson().getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content"))
        .isEqualTo("Well");

    fixture.pipeline().complete(FakePipeline.failed(request, "cancelled", "The job was cancelled."));
    List<JsonObject> rest = sse.untilDone();
    assertThat(rest).hasSize(1);
    assertThat(rest.get(0).getJsonObject("error").getString("code")).isEqualTo("cancelled");
  }

  @Test
  void aCompletionArrivingBeforeTheLastEventsSendsTheRemainder() throws Exception {
    String prompt = "completion first " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/completions",
        streamBody(prompt).put("n", 2).put("stream_options", new JsonObject().put("include_usage", true)).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    Sse sse = afterFirstPiece(request, pending, " Hello");

    fixture.pipeline().complete(FakePipeline.ok(request, List.of(new CompletionChoice(0, " Hello world", "stop", null),
        new CompletionChoice(1, " Hi", "length", null)), new Usage(4, 3, 7)));
    List<JsonObject> rest = sse.untilDone();

    assertThat(rest).hasSize(3);
    assertThat(rest.get(0).getJsonArray("choices").getJsonObject(0)).isEqualTo(new JsonObject()
        .put("text", " world").put("index", 0).putNull("logprobs").put("finish_reason", "stop"));
    assertThat(rest.get(1).getJsonArray("choices").getJsonObject(0)).isEqualTo(new JsonObject()
        .put("text", " Hi").put("index", 1).putNull("logprobs").put("finish_reason", "length"));
    assertThat(rest.get(2).getJsonObject("usage")).isEqualTo(new JsonObject().put("prompt_tokens", 4)
        .put("completion_tokens", 3).put("total_tokens", 7));
    // The events the completion overtook change nothing.
    fixture.pipeline().stream(request, last(request, 0, 1, " world", "stop", new Usage(4, 2, 6)));
  }

  @Test
  void aMissingEventIsMadeUpFromTheCompletion() throws Exception {
    String prompt = "gap " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/completions", streamBody(prompt).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    Sse sse = afterFirstPiece(request, pending, " A");

    // Sequence 1 never comes: what follows cannot be placed, and the completion has the rest.
    fixture.pipeline().stream(request, last(request, 0, 2, " C", "stop", new Usage(1, 3, 4)));
    fixture.pipeline().complete(FakePipeline.ok(request, " A B C", "stop"));
    List<JsonObject> rest = sse.untilDone();
    assertThat(rest).hasSize(1);
    assertThat(rest.get(0).getJsonArray("choices").getJsonObject(0)).isEqualTo(new JsonObject()
        .put("text", " B C").put("index", 0).putNull("logprobs").put("finish_reason", "stop"));
  }

  @Test
  void aCompletionThatContradictsWhatWasStreamedEndsTheStreamWithAnError() throws Exception {
    String prompt = "diverged " + UUID.randomUUID();
    var pending = Sse.post(fixture.gateway(), "/v1/completions", streamBody(prompt).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    Sse sse = afterFirstPiece(request, pending, " Yes");

    fixture.pipeline().complete(FakePipeline.ok(request, " No", "stop"));
    List<JsonObject> rest = sse.untilDone();
    assertThat(rest).hasSize(1);
    assertThat(rest.get(0).getJsonObject("error").getString("code")).isEqualTo("internal_error");
    assertThat(rest.get(0).getJsonObject("error").getString("message"))
        .contains("GET /v1/jobs/" + request.getRequestId());
  }

  @Test
  void aClientThatLeavesCancelsItsJob() throws Exception {
    String prompt = "leaving " + UUID.randomUUID();
    String body = streamBody(prompt).encode();
    try (Socket socket = new Socket("127.0.0.1", fixture.gateway().httpPort())) {
      socket.setSoTimeout((int) WAIT.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestKeys.ALICE
          + "\r\nContent-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
          + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
      out.flush();
      GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
      fixture.pipeline().stream(request, piece(request, 0, 0, " Bye"));
      readUntil(socket.getInputStream(), "data: ");
      assertThat(fixture.metric("aigc_gateway_streams_open")).isEqualTo(1.0);
      socket.close();

      Cancellation cancellation = fixture.awaitCancellation(request.getRequestId());
      assertThat(cancellation.getRequestedBy()).isEqualTo("alice");
      await().atMost(WAIT).until(() -> fixture.metric("aigc_gateway_streams_open") == 0);
      assertThat(fixture.metric("aigc_gateway_streams_total{outcome=\"client_closed\"}")).isEqualTo(1.0);
    }
  }

  @Test
  void aStalledStreamEndsWithAnErrorAndCancelsItsJob() throws Exception {
    try (GatewayService impatient = fixture.startGateway(Map.of("AIGC_STREAM_PARTITION", "0",
        "AIGC_STREAM_IDLE_TIMEOUT", "1s"))) {
      String prompt = "stalls " + UUID.randomUUID();
      var pending = Sse.post(impatient, "/v1/completions", streamBody(prompt).encode());
      GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
      assertThat(request.getStreamPartition()).isZero();
      fixture.pipeline().stream(request, piece(request, 0, 0, " and then"));

      List<JsonObject> chunks = Sse.of(pending).untilDone();
      assertThat(chunks).hasSize(2);
      assertThat(chunks.get(1).getJsonObject("error")).isEqualTo(new JsonObject()
          .put("message", "The job produced no text for 1s; it is cancelled.").put("type", "server_error")
          .putNull("param").put("code", "stream_timeout"));
      assertThat(fixture.awaitCancellation(request.getRequestId()).getRequestedBy()).isEqualTo("alice");

      // Stalled before its first token: nothing was sent, so the error is the HTTP answer.
      String silent = "never starts " + UUID.randomUUID();
      var nothing = Sse.post(impatient, "/v1/completions", streamBody(silent).encode());
      JsonObject error = Sse.error(nothing, 504);
      assertThat(error.getJsonObject("error").getString("code")).isEqualTo("stream_timeout");
      assertThat(fixture.awaitCancellation(error.getString("job_id"))).isNotNull();
    }
  }

  @Test
  void eachGatewayReadsItsOwnPartitionOnly() throws Exception {
    try (GatewayService other = fixture.startGateway(Map.of("AIGC_STREAM_PARTITION", "0"))) {
      assertThat(fixture.gateway().streamPartition()).isEqualTo(PARTITION);
      assertThat(other.streamPartition()).isZero();
      String prompt = "mine " + UUID.randomUUID();
      var pending = Sse.post(fixture.gateway(), "/v1/completions", streamBody(prompt).encode());
      GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
      fixture.pipeline().stream(request, piece(request, 0, 0, " a"),
          last(request, 0, 1, " b", "stop", new Usage(1, 2, 3)));
      assertThat(Sse.of(pending).untilDone()).hasSize(2);

      // An event on the other gateway's partition is the first it reads: it never saw the two above.
      fixture.pipeline().streamTo(0, piece(request, 0, 0, " marker"));
      await().atMost(WAIT).until(() -> TestHttp.metric(other, "aigc_gateway_stream_events_read_total") > 0);
      assertThat(TestHttp.metric(other, "aigc_gateway_stream_events_read_total")).isEqualTo(1.0);
      assertThat(TestHttp.metric(other, "aigc_gateway_stream_events_unclaimed_total")).isEqualTo(1.0);
    }
  }

  @Test
  void withoutAConfiguredPartitionAGatewayPicksOneOfTheTopics() throws Exception {
    try (GatewayService unconfigured = fixture.startGateway(Map.of())) {
      assertThat(unconfigured.streamPartition()).isBetween(0, 1);
    }
  }

  // ---- helpers ----

  private static JsonObject streamBody(String prompt) {
    return new JsonObject().put("prompt", prompt).put("stream", true);
  }

  /** Streams {@code text} as the request's first piece and reads it back: the stream, left open. */
  private static Sse afterFirstPiece(GenerationRequest request,
      CompletableFuture<HttpResponse<Stream<String>>> pending, String text) throws Exception {
    fixture.pipeline().stream(request, piece(request, 0, 0, text));
    Sse sse = Sse.of(pending);
    assertThat(sse.nextJson().getJsonArray("choices").getJsonObject(0).getString("text")).isEqualTo(text);
    return sse;
  }

  private static JsonObject chatBody(String content) {
    return new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", content)));
  }

  private static GenerationRequest awaitChat(String content) {
    return fixture.pipeline().awaitRequest(r -> r.getMessages() != null && !r.getMessages().isEmpty()
        && r.getMessages().get(0).getContent().equals(content));
  }

  private static JsonObject textChunk(GenerationRequest request, long created, String text, String finishReason) {
    return new JsonObject().put("id", request.getRequestId()).put("object", "text_completion")
        .put("created", created).put("model", "tiny-llama").put("choices", new JsonArray().add(new JsonObject()
            .put("text", text).put("index", 0).putNull("logprobs").put("finish_reason", finishReason)));
  }

  /** The choice objects of one choice's chunks, in order. */
  private static List<JsonObject> choiceDeltas(List<JsonObject> chunks, int index) {
    List<JsonObject> deltas = new ArrayList<>();
    for (JsonObject chunk : chunks) {
      JsonArray choices = chunk.getJsonArray("choices");
      assertThat(choices).hasSize(1);
      if (choices.getJsonObject(0).getInteger("index") == index) {
        deltas.add(choices.getJsonObject(0));
      }
    }
    return deltas;
  }

  private static String content(List<JsonObject> deltas) {
    StringBuilder text = new StringBuilder();
    deltas.forEach(d -> text.append(d.getJsonObject("delta").getString("content", "")));
    return text.toString();
  }

  /** A token and its alternatives, the first being the token itself, each one less likely by 1. */
  private static TextLogprobs token(String token, double logprob, String... alternatives) {
    List<TextLogprob> top = new ArrayList<>();
    for (int i = 0; i < alternatives.length; i++) {
      top.add(new TextLogprob(alternatives[i], logprob - i));
    }
    return new TextLogprobs(token, logprob, top);
  }

  private static void readUntil(InputStream in, String marker) throws Exception {
    StringBuilder seen = new StringBuilder();
    while (seen.indexOf(marker) < 0) {
      int b = in.read();
      assertThat(b).as("the stream ended before '%s': %s", marker, seen).isNotNegative();
      seen.append((char) b);
    }
  }
}
