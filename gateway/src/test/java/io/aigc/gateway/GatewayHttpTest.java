package io.aigc.gateway;

import static io.aigc.gateway.TestHttp.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.aigc.model.testing.TestModels;
import io.aigc.schemas.Cancellation;
import io.aigc.schemas.ChatMessage;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.GenerationParams;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.TextLogprob;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.Timings;
import io.aigc.schemas.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The gateway over HTTP against a real broker. The test plays the rest of the pipeline ({@link FakePipeline}): it
 * reads what the gateway publishes and writes the completions.
 */
@Timeout(60)
class GatewayHttpTest {
  private static final Duration WAIT = TestHttp.WAIT;

  /** Every request here is alice's (access control itself is AccessControlHttpTest's), unlimited. */
  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.withPipeline();

  // ---- completions, synchronous ----

  @Test
  void syncCompletionRoundTrip() throws Exception {
    Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    String prompt = "Once upon a time " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = postAsync("/v1/completions", new JsonObject()
        .put("model", "tiny-llama").put("prompt", prompt).put("max_tokens", 5).put("temperature", 0)
        .put("stop", "\n").put("seed", 42).put("user", "u-1").put("metadata", new JsonObject().put("article", "42"))
        .put("timeout_seconds", 30).encode());

    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    assertThat(request.getRequestId()).matches("cmpl-[A-Za-z0-9_-]{24}");
    assertThat(request.getModel()).isEqualTo("tiny-llama");
    assertThat(Instant.ofEpochMilli(request.getCreatedAt())).isBetween(before.truncatedTo(ChronoUnit.MILLIS),
        Instant.now());
    assertThat(request.getDeadline()).isEqualTo(request.getCreatedAt() + 30_000);
    assertThat(request.getParams()).isEqualTo(GenerationParams.newBuilder().setMaxTokens(5).setTemperature(0)
        .setTopP(1).setTopK(0).setN(1).setSeed(42L).setStop(List.of("\n")).build());
    assertThat(request.getMetadata()).isEqualTo(Map.of("article", "42", "user", "u-1", "api_key_name", "alice"));
    assertThat(fixture.pipeline().keyMismatches()).isEmpty();
    assertThat(pending).isNotDone();

    fixture.pipeline().complete(FakePipeline.ok(request, " there was a tiny llama.", "length"));
    HttpResponse<String> response = pending.get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject expected = new JsonObject("""
        {"id": "%s", "object": "text_completion", "created": %d, "model": "tiny-llama",
         "choices": [{"text": " there was a tiny llama.", "index": 0, "logprobs": null, "finish_reason": "length"}],
         "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}}
        """.formatted(request.getRequestId(), request.getCreatedAt() / 1000));
    assertThat(new JsonObject(response.body())).isEqualTo(expected);

    // The same job, by id.
    JsonObject job = json(get("/v1/jobs/" + request.getRequestId()), 200);
    assertThat(job.getString("status")).isEqualTo("done");
    assertThat(job.getJsonObject("completion")).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({
      "context_length_exceeded, 400, invalid_request_error",
      "model_not_found,         404, invalid_request_error",
      "deadline_exceeded,       504, server_error",
      "internal_error,          500, server_error"})
  void errorCompletionBecomesAnHttpError(String code, int status, String type) throws Exception {
    String prompt = "fails with " + code + " " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = postAsync("/v1/completions", body(prompt));
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    fixture.pipeline().complete(FakePipeline.failed(request, code, "it went wrong: " + code));

    JsonObject body = json(pending.get(WAIT.toSeconds(), TimeUnit.SECONDS), status);
    assertThat(body).isEqualTo(new JsonObject()
        .put("error", new JsonObject().put("message", "it went wrong: " + code).put("type", type)
            .putNull("param").put("code", code))
        .put("job_id", request.getRequestId()));
  }

  @Test
  void aWholeAnswerComesFromTheStreamEventsWhenEveryChoiceHasEndedThere() throws Exception {
    String prompt = "From the stream " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = postAsync("/v1/completions", new JsonObject()
        .put("prompt", prompt).put("max_tokens", 5).put("n", 2).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);

    Usage usage = new Usage(4, 2, 6);
    fixture.pipeline().stream(request, FakePipeline.piece(request, 0, 0, " once"),
        FakePipeline.piece(request, 1, 0, " so"),
        FakePipeline.piece(request, 0, 0, " once"), // a redo's repeat, dropped
        FakePipeline.last(request, 1, 1, " be it", "stop", new Usage(4, 3, 7)),
        FakePipeline.last(request, 0, 1, " more", "length", usage));
    // No completion is sent: the events alone answer.
    HttpResponse<String> response = pending.get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("id")).isEqualTo(request.getRequestId());
    assertThat(body.getJsonArray("choices").getJsonObject(0).getString("text")).isEqualTo(" once more");
    assertThat(body.getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("length");
    assertThat(body.getJsonArray("choices").getJsonObject(1).getString("text")).isEqualTo(" so be it");
    assertThat(body.getJsonArray("choices").getJsonObject(1).getString("finish_reason")).isEqualTo("stop");
    assertThat(body.getJsonObject("usage").getMap()).containsExactlyInAnyOrderEntriesOf(
        Map.of("prompt_tokens", 4, "completion_tokens", 5, "total_tokens", 9));
    // The job is still the completion's: its slot is held until that arrives.
    fixture.pipeline().complete(FakePipeline.ok(request, List.of(new CompletionChoice(0, " once more", "length", null),
        new CompletionChoice(1, " so be it", "stop", null)), new Usage(4, 5, 9)));
  }

  @Test
  void syncTimeoutAnswers504WithTheJobIdAndTheJobCompletesLater() throws Exception {
    try (GatewayService impatient = fixture.startGateway(Map.of("AIGC_SYNC_TIMEOUT", "1s"))) {
      String prompt = "slow " + UUID.randomUUID();
      HttpResponse<String> response = post(impatient, "/v1/completions", body(prompt));
      GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
      String id = request.getRequestId();

      JsonObject error = json(response, 504);
      assertThat(error.getString("job_id")).isEqualTo(id);
      assertThat(error.getJsonObject("error").getString("code")).isEqualTo("timeout");
      assertThat(error.getJsonObject("error").getString("type")).isEqualTo("server_error");
      assertThat(error.getJsonObject("error").getString("message")).contains("GET /v1/jobs/" + id);
      assertThat(json(get(impatient, "/v1/jobs/" + id), 200).getString("status")).isEqualTo("queued");

      fixture.pipeline().complete(FakePipeline.ok(request, " at last", "stop"));
      JsonObject job = await().atMost(WAIT).until(() -> json(get(impatient, "/v1/jobs/" + id), 200),
          j -> j.getString("status").equals("done"));
      assertThat(job.getJsonObject("completion").getJsonArray("choices").getJsonObject(0).getString("text"))
          .isEqualTo(" at last");
    }
  }

  @Test
  void aChatJobPolledAfterItsTimeoutShowsAChatCompletion() throws Exception {
    try (GatewayService impatient = fixture.startGateway(Map.of("AIGC_SYNC_TIMEOUT", "1s"))) {
      String content = "slow chat " + UUID.randomUUID();
      HttpResponse<String> response = post(impatient, "/v1/chat/completions", new JsonObject().put("messages",
          new JsonArray().add(new JsonObject().put("role", "user").put("content", content))).encode());
      GenerationRequest request = fixture.pipeline().awaitRequest(r -> r.getMessages() != null
          && r.getMessages().get(0).getContent().equals(content));
      String id = json(response, 504).getString("job_id");
      assertThat(id).isEqualTo(request.getRequestId()).startsWith("chatcmpl-");

      fixture.pipeline().complete(FakePipeline.ok(request, "at last", "stop"));
      JsonObject job = await().atMost(WAIT).until(() -> json(get(impatient, "/v1/jobs/" + id), 200),
          j -> j.getString("status").equals("done"));
      assertThat(job.getJsonObject("completion").getString("object")).isEqualTo("chat.completion");
      assertThat(job.getJsonObject("completion").getJsonArray("choices").getJsonObject(0).getJsonObject("message")
          .getString("content")).isEqualTo("at last");
    }
  }

  @Test
  void unreadableCompletionFailsItsWaitingRequest() throws Exception {
    String prompt = "poisoned " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = postAsync("/v1/completions", body(prompt));
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    fixture.pipeline().send(request.getRequestId(), "not avro".getBytes());

    JsonObject error = json(pending.get(WAIT.toSeconds(), TimeUnit.SECONDS), 500);
    assertThat(error.getString("job_id")).isEqualTo(request.getRequestId());
    assertThat(error.getJsonObject("error").getString("code")).isEqualTo("internal_error");
    assertThat(json(get("/v1/jobs/" + request.getRequestId()), 200).getString("status"))
        .isEqualTo("failed");
  }

  @Test
  void theNewSamplingParametersReachThePublishedRequest() throws Exception {
    String prompt = "parameters " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = postAsync("/v1/completions", new JsonObject()
        .put("prompt", prompt).put("max_tokens", 8).put("presence_penalty", 0.5).put("frequency_penalty", -0.5)
        .put("repetition_penalty", 1.1).put("min_p", 0.05).put("min_tokens", 2)
        .put("logit_bias", new JsonObject().put("50256", -100).put("13", 2.5)).put("logprobs", 3).encode());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);

    assertThat(request.getParams()).isEqualTo(GenerationParams.newBuilder().setMaxTokens(8).setTemperature(1)
        .setTopP(1).setTopK(0).setN(1).setSeed(null).setStop(List.of()).setPresencePenalty(0.5)
        .setFrequencyPenalty(-0.5).setRepetitionPenalty(1.1).setMinP(0.05).setMinTokens(2)
        .setLogitBias(Map.of("50256", -100.0, "13", 2.5)).setLogprobs(3).build());
    assertThat(request.getMessages()).isNull();
    // Even a whole answer names this gateway's stream partition: its text may come back that way, one hop sooner.
    assertThat(request.getStreamPartition()).isNotNull();

    fixture.pipeline().complete(FakePipeline.ok(request, List.of(new CompletionChoice(0, " ok", "stop",
        List.of(new TextLogprobs(" ok", -0.1, List.of(new TextLogprob(" ok", -0.1), new TextLogprob(" no", -2.0)))))),
        new Usage(2, 1, 3)));
    JsonObject choice = json(pending.get(WAIT.toSeconds(), TimeUnit.SECONDS), 200).getJsonArray("choices")
        .getJsonObject(0);
    assertThat(choice.getJsonObject("logprobs")).isEqualTo(new JsonObject()
        .put("tokens", new JsonArray().add(" ok")).put("token_logprobs", new JsonArray().add(-0.1))
        .put("top_logprobs", new JsonArray().add(new JsonObject().put(" ok", -0.1).put(" no", -2.0)))
        .put("text_offset", new JsonArray().add(0)));
  }

  // ---- chat ----

  @Test
  void aChatCompletionIsAJobWithMessagesAnsweredInOpenAisChatShape() throws Exception {
    String content = "chat " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = postAsync("/v1/chat/completions", new JsonObject()
        .put("model", "tiny-llama").put("messages", new JsonArray()
            .add(new JsonObject().put("role", "developer").put("content", "Be brief."))
            .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                .add(new JsonObject().put("type", "text").put("text", content)))))
        .put("max_completion_tokens", 6).put("n", 2).put("seed", 3).put("logprobs", true).put("top_logprobs", 1)
        .encode());
    GenerationRequest request = fixture.pipeline().awaitRequest(r -> r.getMessages() != null
        && r.getMessages().get(r.getMessages().size() - 1).getContent().equals(content));
    assertThat(request.getRequestId()).matches("chatcmpl-[A-Za-z0-9_-]{24}");
    assertThat(request.getPrompt()).isEmpty();
    assertThat(request.getMessages()).containsExactly(new ChatMessage("system", "Be brief."),
        new ChatMessage("user", content));
    assertThat(request.getParams().getMaxTokens()).isEqualTo(6);
    assertThat(request.getParams().getN()).isEqualTo(2);
    assertThat(request.getParams().getLogprobs()).isEqualTo(1);

    fixture.pipeline().complete(FakePipeline.ok(request, List.of(
        new CompletionChoice(0, "Hi.", "stop", List.of(new TextLogprobs("Hi.", -0.5,
            List.of(new TextLogprob("Hi.", -0.5))))),
        new CompletionChoice(1, "Hello", "length", List.of(new TextLogprobs("Hello", -1.0, List.of())))),
        new Usage(9, 2, 11)));
    JsonObject body = json(pending.get(WAIT.toSeconds(), TimeUnit.SECONDS), 200);

    assertThat(body).isEqualTo(new JsonObject("""
        {"id": "%s", "object": "chat.completion", "created": %d, "model": "tiny-llama",
         "choices": [
           {"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop",
            "logprobs": {"content": [{"token": "Hi.", "logprob": -0.5, "bytes": [72, 105, 46],
                "top_logprobs": [{"token": "Hi.", "logprob": -0.5, "bytes": [72, 105, 46]}]}]}},
           {"index": 1, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "length",
            "logprobs": {"content": [{"token": "Hello", "logprob": -1.0, "bytes": [72, 101, 108, 108, 111],
                "top_logprobs": []}]}}],
         "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}
        """.formatted(request.getRequestId(), request.getCreatedAt() / 1000)));
  }

  @Test
  void anUnknownModelIsA404AsFromOpenAi() throws Exception {
    JsonObject error = json(post("/v1/chat/completions", new JsonObject().put("model", "gpt-4o")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi"))).encode()),
        404);
    assertThat(error).isEqualTo(new JsonObject().put("error", new JsonObject()
        .put("message", "The model 'gpt-4o' does not exist. This server serves 'tiny-llama'.")
        .put("type", "invalid_request_error").put("param", "model").put("code", "model_not_found")));
  }

  // ---- models ----

  @Test
  void modelsListsTheServedModelInOpenAisShape() throws Exception {
    JsonObject list = json(get("/v1/models"), 200);
    assertThat(list.getString("object")).isEqualTo("list");
    assertThat(list.getJsonArray("data")).hasSize(1);
    JsonObject model = list.getJsonArray("data").getJsonObject(0);
    assertThat(model.fieldNames()).containsExactlyInAnyOrder("id", "object", "created", "owned_by");
    assertThat(model.getString("id")).isEqualTo("tiny-llama");
    assertThat(model.getString("object")).isEqualTo("model");
    assertThat(model.getLong("created")).isPositive();
    assertThat(model.getString("owned_by")).isEqualTo("aigc");

    assertThat(json(get("/v1/models/tiny-llama"), 200)).isEqualTo(model);
    JsonObject unknown = json(get("/v1/models/meta-llama/Llama-3-8B"), 404);
    assertThat(unknown).isEqualTo(new JsonObject().put("error", new JsonObject()
        .put("message", "The model 'meta-llama/Llama-3-8B' does not exist. This server serves 'tiny-llama'.")
        .put("type", "invalid_request_error").put("param", "model").put("code", "model_not_found")));
  }

  @Test
  void withSeveralModelsEachRequestNamesItsOwnAndTheListHasThemAll() throws Exception {
    String both = TestModels.dir(TestModels.TINY_LLAMA) + "," + TestModels.dir(TestModels.TINY_GPT2);
    try (GatewayService two = fixture.startGateway(Map.of("AIGC_MODEL_DIR", both))) {
      assertThat(json(get(two, "/v1/models"), 200).getJsonArray("data").stream()
          .map(m -> ((JsonObject) m).getString("id")).toList()).containsExactly("tiny-llama", "tiny-gpt2");
      String prompt = "for gpt2 " + UUID.randomUUID();
      CompletableFuture<HttpResponse<String>> pending = postAsync(two, "/v1/completions",
          new JsonObject().put("model", "tiny-gpt2").put("prompt", prompt).put("max_tokens", 4).encode());
      String unnamed = "for the default " + UUID.randomUUID();
      postAsync(two, "/v1/completions", body(unnamed));

      GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
      assertThat(request.getModel()).isEqualTo("tiny-gpt2");
      assertThat(fixture.pipeline().awaitPrompt(unnamed).getModel()).isEqualTo("tiny-llama");
      fixture.pipeline().complete(FakePipeline.ok(request, " done", "stop"));
      assertThat(json(pending.get(WAIT.toSeconds(), TimeUnit.SECONDS), 200).getString("model")).isEqualTo("tiny-gpt2");
      JsonObject unknown = json(post(two, "/v1/completions", new JsonObject().put("model", "gpt-4o")
          .put("prompt", "Hi").encode()), 404);
      assertThat(unknown.getJsonObject("error").getString("code")).isEqualTo("model_not_found");
      assertThat(unknown.getJsonObject("error").getString("message")).contains("'tiny-llama', 'tiny-gpt2'");
    }
  }

  @Test
  void onSigtermTheRequestsInFlightAreAnsweredAndNoNewConnectionIsTaken() throws Exception {
    GatewayService stopping = fixture.startGateway(Map.of("AIGC_DRAIN_TIMEOUT", "20s"));
    int port = stopping.httpPort();
    String prompt = "in flight at shutdown " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = postAsync(stopping, "/v1/completions", body(prompt));
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    // What the shutdown hook does on SIGTERM; it returns once the request in flight is answered.
    CompletableFuture<Void> closed = CompletableFuture.runAsync(stopping::close);
    await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> {
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
        // connected: the server still accepts
      }
    }).isInstanceOf(java.io.IOException.class));
    assertThat(closed).isNotDone();

    fixture.pipeline().complete(FakePipeline.ok(request, " answered", "stop"));
    assertThat(json(pending.get(WAIT.toSeconds(), TimeUnit.SECONDS), 200).getJsonArray("choices").getJsonObject(0)
        .getString("text")).isEqualTo(" answered");
    closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  // ---- tasks ----

  @Test
  void tasksListsTheNamedTasksAndATaskRequestIsCheckedAtOnce() throws Exception {
    JsonObject list = json(get("/v1/tasks"), 200);
    assertThat(list.getString("object")).isEqualTo("list");
    JsonObject news = list.getJsonArray("data").getJsonObject(0);
    assertThat(news).isEqualTo(new JsonObject().put("id", "news-summary").put("object", "task")
        .put("description", "A news article summarized in two or three sentences, for a daily digest.")
        .put("required", new JsonArray().add("title").add("body"))
        .put("optional", new JsonArray().add("source").add("published"))
        .put("defaults", new JsonObject().put("max_tokens", 96).put("temperature", 0.3).put("min_tokens", 8)));
    assertThat(list.getJsonArray("data")).extracting(t -> ((JsonObject) t).getString("id"))
        .containsExactly("news-summary", "ad-copy", "email-reply", "lesson-outline");

    JsonObject error = json(post("/v1/completions", new JsonObject().put("task", "news-summary")
        .put("task_fields", new JsonObject().put("title", "T")).encode()), 400);
    assertThat(error.getJsonObject("error").getString("param")).isEqualTo("task_fields");
    assertThat(error.getJsonObject("error").getString("message"))
        .isEqualTo("Invalid 'task_fields': the task 'news-summary' requires the field 'body'.");
  }

  // ---- jobs ----

  @Test
  void asyncJobIsQueuedThenDone() throws Exception {
    String prompt = "async " + UUID.randomUUID();
    HttpResponse<String> accepted = post("/v1/jobs", body(prompt));
    JsonObject job = json(accepted, 202);
    String id = job.getString("id");
    assertThat(job.fieldNames()).containsExactlyInAnyOrder("id", "object", "status", "created", "model");
    assertThat(job.getString("object")).isEqualTo("job");
    assertThat(job.getString("status")).isEqualTo("queued");
    assertThat(job.getString("model")).isEqualTo("tiny-llama");
    assertThat(accepted.headers().firstValue("Location")).hasValue("/v1/jobs/" + id);

    GenerationRequest request = fixture.pipeline().awaitRequest(id);
    assertThat(job.getLong("created")).isEqualTo(request.getCreatedAt() / 1000);
    assertThat(request.getDeadline()).isNull();
    assertThat(json(get("/v1/jobs/" + id), 200).getString("status")).isEqualTo("queued");

    fixture.pipeline().complete(Completion.newBuilder(FakePipeline.ok(request, " done!", "stop"))
        .setTimings(new Timings(5L, 7L, 11L)).build());
    JsonObject done = await().atMost(WAIT).until(() -> json(get("/v1/jobs/" + id), 200),
        j -> j.getString("status").equals("done"));
    // The worker's timings beside the completion, which keeps OpenAI's shape.
    assertThat(done.getJsonObject("timings")).isEqualTo(new JsonObject().put("queue_ms", 5).put(
        "time_to_first_token_ms", 7).put("decode_ms", 11));
    assertThat(done.getJsonObject("completion").containsKey("timings")).isFalse();
    assertThat(done.getString("id")).isEqualTo(id);
    assertThat(done.getLong("created")).isEqualTo(job.getLong("created"));
    assertThat(done.getJsonObject("completion").getString("id")).isEqualTo(id);
    assertThat(done.getJsonObject("completion").getJsonArray("choices").getJsonObject(0).getString("text"))
        .isEqualTo(" done!");
  }

  @Test
  void failedJobCarriesItsError() throws Exception {
    String id = json(post("/v1/jobs", body("too long " + UUID.randomUUID())), 202).getString("id");
    fixture.pipeline().complete(FakePipeline.failed(fixture.pipeline().awaitRequest(id), "context_length_exceeded",
        "The prompt has 300 tokens; the model's context is 256."));

    JsonObject failed = await().atMost(WAIT).until(() -> json(get("/v1/jobs/" + id), 200),
        j -> !j.getString("status").equals("queued"));
    assertThat(failed.getString("status")).isEqualTo("failed");
    assertThat(failed.containsKey("completion")).isFalse();
    assertThat(failed.getJsonObject("error")).isEqualTo(new JsonObject()
        .put("message", "The prompt has 300 tokens; the model's context is 256.")
        .put("type", "invalid_request_error").putNull("param").put("code", "context_length_exceeded"));
  }

  @Test
  void deletingAQueuedJobPublishesItsCancellationAndTheJobEndsCancelled() throws Exception {
    String id = json(post("/v1/jobs", body("cancel me " + UUID.randomUUID())), 202).getString("id");
    GenerationRequest request = fixture.pipeline().awaitRequest(id);

    HttpResponse<String> cancelling = TestHttp.send(request("/v1/jobs/" + id).DELETE());
    assertThat(json(cancelling, 202).getString("status")).isEqualTo("cancelling");
    Cancellation cancellation = fixture.awaitCancellation(id);
    assertThat(cancellation.getRequestedBy()).isEqualTo(request.getMetadata().get("api_key_name"));

    // A worker drops the job and its error completion arrives.
    fixture.pipeline().complete(FakePipeline.failed(request, "cancelled", "the request was cancelled"));
    JsonObject job = await().atMost(WAIT).until(() -> json(get("/v1/jobs/" + id), 200),
        j -> !j.getString("status").equals("queued"));
    assertThat(job.getString("status")).isEqualTo("cancelled");
    assertThat(job.getJsonObject("error").getString("code")).isEqualTo("cancelled");

    HttpResponse<String> again = TestHttp.send(request("/v1/jobs/" + id).DELETE());
    assertThat(json(again, 409).getJsonObject("error").getString("code")).isEqualTo("job_finished");
    HttpResponse<String> unknown = TestHttp.send(request("/v1/jobs/cmpl-nobody").DELETE());
    assertThat(json(unknown, 404).getJsonObject("error").getString("code")).isEqualTo("job_not_found");
  }

  @Test
  void idempotencyKeyRetryReturnsTheSameJobAndPublishesOnce() throws Exception {
    String key = "order-" + UUID.randomUUID();
    String body = body("idempotent " + key);
    HttpResponse<String> first = post("/v1/jobs", body, "Idempotency-Key", key);
    String id = json(first, 202).getString("id");
    assertThat(id).isEqualTo(JobIds.fromIdempotencyKey("alice", key));
    assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();

    HttpResponse<String> retry = post("/v1/jobs", body, "Idempotency-Key", key);
    assertThat(json(retry, 202).getString("id")).isEqualTo(id);
    assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertThat(fixture.pipeline().timesPublished(id)).isEqualTo(1);

    // Once done, a retry answers with the finished job, still without publishing again.
    fixture.pipeline().complete(FakePipeline.ok(fixture.pipeline().awaitRequest(id), " once", "stop"));
    await().atMost(WAIT).until(() -> json(get("/v1/jobs/" + id), 200).getString("status"),
        "done"::equals);
    JsonObject late = json(post("/v1/jobs", body, "Idempotency-Key", key), 202);
    assertThat(late.getString("status")).isEqualTo("done");
    assertThat(fixture.pipeline().timesPublished(id)).isEqualTo(1);
  }

  @Test
  void idempotencyKeyWithAnotherBodyIsAConflict() throws Exception {
    String key = "conflict-" + UUID.randomUUID();
    String id = json(post("/v1/jobs", body("first body"), "Idempotency-Key", key), 202).getString("id");
    JsonObject conflict = json(post("/v1/jobs", body("second body"), "Idempotency-Key", key), 409);
    assertThat(conflict.getString("job_id")).isEqualTo(id);
    assertThat(conflict.getJsonObject("error").getString("code")).isEqualTo("idempotency_key_reused");
    assertThat(conflict.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
    assertThat(conflict.getJsonObject("error").getString("param")).isEqualTo("Idempotency-Key");
    assertThat(fixture.pipeline().timesPublished(id)).isEqualTo(1);
  }

  @Test
  void unknownJobIs404() throws Exception {
    JsonObject error = json(get("/v1/jobs/cmpl-nope"), 404);
    assertThat(error.getJsonObject("error").getString("code")).isEqualTo("job_not_found");
    assertThat(error.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
  }

  @Test
  void completionOfAJobAcceptedElsewhereIsStoredAndDuplicatesChangeNothing() throws Exception {
    GenerationRequest elsewhere = GenerationRequest.newBuilder()
        .setRequestId("cmpl-elsewhere-" + UUID.randomUUID())
        .setCreatedAt(System.currentTimeMillis())
        .setDeadline(null).setModel("tiny-llama").setPrompt("p")
        // Accepted from alice by another instance: its completion says whose it is.
        .setParams(GenerationParams.newBuilder().build()).setMetadata(Map.of("api_key_name", "alice")).build();
    double duplicatesBefore = metric("aigc_gateway_completions_duplicate_total");
    fixture.pipeline().complete(FakePipeline.ok(elsewhere, " first", "stop"));
    fixture.pipeline().complete(FakePipeline.ok(elsewhere, " second", "stop"));

    await().atMost(WAIT).until(() -> metric("aigc_gateway_completions_duplicate_total") > duplicatesBefore);
    JsonObject job = json(get("/v1/jobs/" + elsewhere.getRequestId()), 200);
    assertThat(job.getString("status")).isEqualTo("done");
    assertThat(job.getJsonObject("completion").getJsonArray("choices").getJsonObject(0).getString("text"))
        .isEqualTo(" first");
  }

  @Test
  void restartedGatewayStillAnswersForRecentJobs() throws Exception {
    String id = json(post("/v1/jobs", body("before restart " + UUID.randomUUID())), 202).getString("id");
    fixture.pipeline().complete(FakePipeline.ok(fixture.pipeline().awaitRequest(id), " remembered", "stop"));
    await().atMost(WAIT).until(() -> json(get("/v1/jobs/" + id), 200).getString("status"), "done"::equals);

    try (GatewayService fresh = fixture.startGateway(Map.of())) {
      JsonObject job = await().atMost(WAIT).until(() -> get(fresh, "/v1/jobs/" + id), r -> r.statusCode() == 200)
          .body().transform(JsonObject::new);
      assertThat(job.getString("status")).isEqualTo("done");
      assertThat(job.getJsonObject("completion").getJsonArray("choices").getJsonObject(0).getString("text"))
          .isEqualTo(" remembered");
    }
  }

  // ---- back-pressure and failures ----

  @Test
  void inFlightLimitAnswers429() throws Exception {
    try (GatewayService small = fixture.startGateway(Map.of("AIGC_MAX_IN_FLIGHT", "2"))) {
      String first = json(post(small, "/v1/jobs", body("slot 1")), 202).getString("id");
      json(post(small, "/v1/jobs", body("slot 2")), 202);

      HttpResponse<String> refused = post(small, "/v1/jobs", body("slot 3"));
      JsonObject error = json(refused, 429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(error.getJsonObject("error").getString("code")).isEqualTo("rate_limit_exceeded");
      assertThat(error.getJsonObject("error").getString("type")).isEqualTo("rate_limit_error");
      json(post(small, "/v1/completions", body("sync too")), 429);
      assertThat(metric(small, "aigc_gateway_in_flight")).isEqualTo(2.0);

      // A completion frees a slot.
      fixture.pipeline().complete(FakePipeline.ok(fixture.pipeline().awaitRequest(first), "x", "stop"));
      await().atMost(WAIT).until(() -> metric(small, "aigc_gateway_in_flight") == 1.0);
      json(post(small, "/v1/jobs", body("slot 3 again")), 202);
    }
  }

  @Test
  void publishFailureAnswers503AndLeavesNothingPending() throws Exception {
    Map<String, String> noRequestsTopic = Map.of("AIGC_TOPIC_REQUESTS", "absent.requests",
        "AIGC_CREATE_TOPICS", "false", "AIGC_PUBLISH_TIMEOUT", "1s");
    try (GatewayService broken = fixture.startGateway(noRequestsTopic)) {
      assertThat(broken.ready()).isFalse();
      assertThat(json(get(broken, "/readyz"), 503)).isEqualTo(new JsonObject().put("status", "unavailable"));

      HttpResponse<String> refused = post(broken, "/v1/jobs", body("lost?"));
      JsonObject error = json(refused, 503);
      assertThat(error.getJsonObject("error").getString("code")).isEqualTo("service_unavailable");
      assertThat(error.getJsonObject("error").getString("type")).isEqualTo("server_error");
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      json(post(broken, "/v1/completions", body("lost too?")), 503);

      assertThat(metric(broken, "aigc_gateway_in_flight")).isZero();
      assertThat(metric(broken, "aigc_gateway_publish_failures_total")).isEqualTo(2.0);
    }
  }

  // ---- HTTP errors ----

  @Test
  void invalidRequestGetsOpenAiErrorBody() throws Exception {
    JsonObject error = json(post("/v1/completions", "{\"prompt\":\"Hi\",\"foo\":1}"), 400);
    assertThat(error).isEqualTo(new JsonObject().put("error", new JsonObject()
        .put("message", "Unrecognized request argument supplied: foo").put("type", "invalid_request_error")
        .put("param", "foo").put("code", "unknown_parameter")));
    JsonObject malformed = json(post("/v1/jobs", "{\"prompt\":"), 400);
    assertThat(malformed.getJsonObject("error").getString("code")).isEqualTo("invalid_json");
  }

  @Test
  void unknownPathIs404() throws Exception {
    JsonObject error = json(get("/v1/embeddings"), 404);
    assertThat(error).isEqualTo(new JsonObject().put("error", new JsonObject()
        .put("message", "Invalid URL (GET /v1/embeddings)").put("type", "invalid_request_error")
        .putNull("param").put("code", "unknown_url")));
  }

  @Test
  void wrongMethodIs405() throws Exception {
    HttpResponse<String> wrong = get("/v1/completions");
    JsonObject error = json(wrong, 405);
    assertThat(wrong.headers().firstValue("Allow")).hasValue("POST");
    assertThat(error.getJsonObject("error").getString("code")).isEqualTo("method_not_allowed");
    assertThat(error.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
    HttpResponse<String> put = TestHttp.send(request("/v1/jobs/cmpl-x").PUT(HttpRequest.BodyPublishers.noBody()));
    assertThat(put.headers().firstValue("Allow")).hasValue("GET, DELETE");
    assertThat(json(put, 405).getJsonObject("error").getString("code")).isEqualTo("method_not_allowed");
  }

  @Test
  void postWithoutJsonContentTypeIs415() throws Exception {
    HttpRequest.Builder plain = request("/v1/completions")
        .header("Content-Type", "text/plain").POST(BodyPublishers.ofString(body("Hi")));
    JsonObject error = json(TestHttp.send(plain), 415);
    assertThat(error.getJsonObject("error").getString("code")).isEqualTo("unsupported_media_type");
    assertThat(error.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");

    HttpRequest.Builder none = request("/v1/jobs").POST(BodyPublishers.ofString(body("Hi")));
    json(TestHttp.send(none), 415);

    // Parameters of the media type are fine.
    HttpRequest.Builder charset = request("/v1/jobs")
        .header("Content-Type", "application/json; charset=utf-8").POST(BodyPublishers.ofString("{"));
    assertThat(json(TestHttp.send(charset), 400).getJsonObject("error").getString("code"))
        .isEqualTo("invalid_json");
  }

  @Test
  void bodyOverTheLimitIsRejectedWithoutReadingIt() throws Exception {
    int limit = 1024 * 1024;
    // Declared length over the limit: refused on the headers, before any of the body is read. (Not sent with
    // Expect: 100-continue, which the server honours, because JDK 17's client hangs on a final answer to it.)
    HttpRequest.Builder declared = request("/v1/completions")
        .header("Content-Type", "application/json").POST(BodyPublishers.ofByteArray(new byte[2 * limit]));
    JsonObject error = json(TestHttp.send(declared), 400);
    assertThat(error).isEqualTo(new JsonObject().put("error", new JsonObject()
        .put("message", "The request body exceeds " + limit + " bytes.").put("type", "invalid_request_error")
        .putNull("param").put("code", "request_too_large")));

    // Chunked, no declared length: cut off once past the limit, whatever follows.
    HttpRequest.Builder chunked = request("/v1/jobs")
        .header("Content-Type", "application/json").POST(endless(16L * limit));
    assertThat(json(TestHttp.send(chunked), 400).getJsonObject("error").getString("code"))
        .isEqualTo("request_too_large");

    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  // ---- probes and metrics ----

  @Test
  void anOversizedBodyOnHttp2EndsItsOwnStreamNotTheConnection() throws Exception {
    // Java's client speaks HTTP/2 (h2c) and multiplexes requests on one connection: refusing one body must not
    // take a request in flight on the same connection down with a GOAWAY.
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> warm = h2.send(request("/v1/jobs/cmpl-none").build(),
        BodyHandlers.ofString());
    assertThat(warm.version()).isEqualTo(HttpClient.Version.HTTP_2);
    String prompt = "in flight on h2 " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> inFlight = h2.sendAsync(request("/v1/completions")
        .header("Content-Type", "application/json").POST(BodyPublishers.ofString(body(prompt))).build(),
        BodyHandlers.ofString());
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);

    String huge = "{\"prompt\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}";
    HttpResponse<String> refused = h2.send(request("/v1/jobs")
        .header("Content-Type", "application/json").POST(BodyPublishers.ofString(huge)).build(),
        BodyHandlers.ofString());
    assertThat(refused.statusCode()).isIn(400, 413);
    // Past the moment an HTTP/1.1 connection would be closed, the other request still waits for its completion...
    await().during(Duration.ofMillis(1500)).atMost(WAIT).until(() -> !inFlight.isDone());
    // ...and gets it.
    fixture.pipeline().complete(FakePipeline.ok(request, " still here", "stop"));
    assertThat(inFlight.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void probesAndMetrics() throws Exception {
    assertThat(json(get("/healthz"), 200)).isEqualTo(new JsonObject().put("status", "ok"));
    await().atMost(WAIT).until(() -> get("/readyz").statusCode() == 200);
    assertThat(fixture.gateway().ready()).isTrue();
    assertThat(json(get("/readyz"), 200)).isEqualTo(new JsonObject().put("status", "ok"));

    String id = json(post("/v1/jobs", body("metered")), 202).getString("id");
    fixture.pipeline().complete(FakePipeline.ok(fixture.pipeline().awaitRequest(id), "m", "stop"));
    await().atMost(WAIT).until(() -> json(get("/v1/jobs/" + id), 200).getString("status"), "done"::equals);

    HttpResponse<String> metrics = get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
        .startsWith("text/plain"));
    assertThat(metrics.body())
        .contains("aigc_gateway_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}")
        .contains("aigc_gateway_http_requests_total{method=\"POST\",route=\"/v1/jobs\",status=\"202\"}")
        .contains("aigc_gateway_http_requests_total{method=\"GET\",route=\"/v1/jobs/{id}\",status=\"200\"}")
        .contains("aigc_gateway_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/jobs\",le=\"0.1\"}")
        .contains("aigc_gateway_completions_received_total{status=\"ok\"}")
        .contains("aigc_gateway_in_flight ")
        .contains("aigc_gateway_requests_published_total ")
        .contains("jvm_memory_used_bytes");
    assertThat(metric("aigc_gateway_completions_received_total{status=\"ok\"}")).isPositive();
  }

  // ---- helpers ----

  private static String body(String prompt) {
    return new JsonObject().put("prompt", prompt).put("max_tokens", 4).encode();
  }

  /** A request of alice's, to this class's gateway or another. */
  private static HttpRequest.Builder request(String path) {
    return request(fixture.gateway(), path);
  }

  private static HttpRequest.Builder request(GatewayService service, String path) {
    return TestHttp.builder(service, path, alice());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return get(fixture.gateway(), path);
  }

  private static HttpResponse<String> get(GatewayService service, String path) throws Exception {
    return TestHttp.get(service, path, alice());
  }

  private static HttpResponse<String> post(String path, String json, String... headers) throws Exception {
    return post(fixture.gateway(), path, json, headers);
  }

  private static HttpResponse<String> post(GatewayService service, String path, String json, String... headers)
      throws Exception {
    return TestHttp.post(service, path, json, alice(headers));
  }

  /** A POST whose answer waits for the pipeline. */
  private static CompletableFuture<HttpResponse<String>> postAsync(String path, String json) {
    return postAsync(fixture.gateway(), path, json);
  }

  private static CompletableFuture<HttpResponse<String>> postAsync(GatewayService service, String path,
      String json) {
    return TestHttp.postAsync(service, path, json, alice());
  }

  /** Alice's Authorization header, then {@code headers}. */
  private static String[] alice(String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "Authorization";
    all[1] = TestHttp.bearer(TestKeys.ALICE);
    System.arraycopy(headers, 0, all, 2, headers.length);
    return all;
  }

  private static double metric(String series) throws Exception {
    return metric(fixture.gateway(), series);
  }

  private static double metric(GatewayService service, String series) throws Exception {
    return TestHttp.metric(service, series);
  }

  /** A body of {@code length} bytes with no declared length, so it is sent chunked. */
  private static BodyPublisher endless(long length) {
    return BodyPublishers.ofInputStream(() -> new InputStream() {
      private long left = length;

      @Override
      public int read() {
        return left-- > 0 ? ' ' : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left <= 0) {
          return -1;
        }
        int n = (int) Math.min(len, left);
        java.util.Arrays.fill(b, off, off + n, (byte) ' ');
        left -= n;
        return n;
      }
    });
  }
}
