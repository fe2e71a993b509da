package io.aigc.gateway;

import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.error;
import static io.aigc.gateway.TestHttp.get;
import static io.aigc.gateway.TestHttp.json;
import static io.aigc.gateway.TestHttp.metric;
import static io.aigc.gateway.TestHttp.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.schemas.GenerationRequest;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * API keys over HTTP against a real broker: who may call, whose jobs they see, how fast, and that neither keys nor
 * prompts reach the log. Alice and bob are the configured callers ({@link TestKeys}).
 */
@Timeout(90)
class AccessControlHttpTest {
  private static final String ALICE = bearer(TestKeys.ALICE);
  private static final String BOB = bearer(TestKeys.BOB);
  private static final JsonObject MISSING_KEY = new JsonObject().put("error", new JsonObject()
      .put("message", "You didn't provide an API key. Send it in an Authorization header as 'Bearer YOUR_KEY'.")
      .put("type", "invalid_request_error").putNull("param").put("code", "missing_api_key"));
  private static final JsonObject WRONG_KEY = new JsonObject().put("error", new JsonObject()
      .put("message", "Incorrect API key provided. Check the key sent in the Authorization header.")
      .put("type", "invalid_request_error").putNull("param").put("code", "invalid_api_key"));

  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.withPipeline();

  // ---- who may call ----

  @ParameterizedTest
  @CsvSource({
      "POST,   /v1/completions",
      "POST,   /v1/jobs",
      "GET,    /v1/jobs/cmpl-anything",
      "DELETE, /v1/jobs/cmpl-anything",
      "GET,    /v1/models",
      "POST,   /v1/../v1/completions",
      "POST,   //v1/jobs",
      "POST,   /healthz/../v1/jobs",
      "POST,   /v1/%2e%2e/v1/jobs"})
  void everythingUnderV1NeedsAKey(String method, String path) throws Exception {
    String prompt = "unauthorized " + UUID.randomUUID();
    String body = body(prompt);

    HttpResponse<String> missing = TestHttp.send(fixture.request(path)
        .header("Content-Type", "application/json").method(method, BodyPublishers.ofString(body)));
    assertThat(json(missing, 401)).isEqualTo(MISSING_KEY);
    assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");

    HttpResponse<String> wrong = TestHttp.send(fixture.request(path, "Authorization", bearer("sk-guess"))
        .header("Content-Type", "application/json").method(method, BodyPublishers.ofString(body)));
    assertThat(json(wrong, 401)).isEqualTo(WRONG_KEY);

    assertThat(fixture.pipeline().timesPublished(r -> r.getPrompt().equals(prompt))).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"Basic YWxpY2U6cHc=", "Bearer", "Bearer ", "Bearer a b", "Token sk-alice-3f9c2b7e1d",
      "sk-alice-3f9c2b7e1d", "Bearer sk-alice-3f9c2b7e1d x", "Bearer sk-alice-3f9c2b7e1d,sk-bob-8a41d0c6e2",
      "Bearer\tsk-alice-3f9c2b7e1d", "Bearer sk-alice-3f9c2b7e1dX", "Bearer sk-alice-3f9c2b7e1"})
  void malformedOrWrongAuthorizationIs401(String authorization) throws Exception {
    JsonObject error = error(fixture.get("/v1/jobs/cmpl-x", "Authorization", authorization), 401);
    assertThat(error.getString("code")).isEqualTo("invalid_api_key");
    assertThat(error.getString("message")).startsWith("Incorrect API key provided").doesNotContain("sk-");
  }

  @Test
  void theConfiguredHashIsNotAKey() throws Exception {
    String hash = TestKeys.entry("alice", TestKeys.ALICE).substring("alice:".length());
    error(fixture.get("/v1/jobs/cmpl-x", "Authorization", bearer(hash)), 401);
  }

  @Test
  void twoAuthorizationHeadersAreRefusedEvenIfBothAreValid() throws Exception {
    HttpResponse<String> twice = TestHttp.send(fixture.request("/v1/jobs/cmpl-x",
        "Authorization", ALICE, "Authorization", BOB).GET());
    assertThat(error(twice, 401).getString("code")).isEqualTo("invalid_api_key");
  }

  @Test
  void theBearerSchemeIsCaseInsensitive() throws Exception {
    json(fixture.post("/v1/jobs", body("lower-case scheme"), "Authorization", "bearer " + TestKeys.ALICE), 202);
    json(fixture.post("/v1/jobs", body("upper-case scheme"), "Authorization", "BEARER " + TestKeys.ALICE), 202);
  }

  @Test
  void probesAndMetricsStayOpen() throws Exception {
    assertThat(json(fixture.get("/healthz"), 200).getString("status")).isEqualTo("ok");
    await().atMost(TestHttp.WAIT).until(() -> fixture.get("/readyz").statusCode() == 200);
    HttpResponse<String> metrics = fixture.get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("aigc_gateway_http_requests_total");
  }

  // ---- attribution ----

  @Test
  void theCallersKeyNameTravelsInTheRequestsMetadata() throws Exception {
    String id = json(fixture.post("/v1/jobs", new JsonObject().put("prompt", "attributed")
        .put("metadata", new JsonObject().put("article", "42")).encode(), "Authorization", BOB), 202)
        .getString("id");
    assertThat(fixture.pipeline().awaitRequest(id).getMetadata()).isEqualTo(Map.of("article", "42",
        "api_key_name", "bob"));
  }

  @Test
  void aClientCannotClaimAKeyName() throws Exception {
    String prompt = "forged " + UUID.randomUUID();
    for (String path : List.of("/v1/jobs", "/v1/completions")) {
      JsonObject error = error(fixture.post(path, new JsonObject().put("prompt", prompt)
          .put("metadata", new JsonObject().put("api_key_name", "alice")).encode(), "Authorization", BOB), 400);
      assertThat(error.getString("param")).isEqualTo("metadata");
      assertThat(error.getString("message")).contains("'api_key_name' is reserved");
    }
    assertThat(fixture.pipeline().timesPublished(r -> r.getPrompt().equals(prompt))).isZero();
  }

  // ---- whose jobs ----

  @Test
  void aJobIsVisibleOnlyToTheKeyThatCreatedIt() throws Exception {
    String id = json(fixture.post("/v1/jobs", body("alice's secret"), "Authorization", ALICE), 202).getString("id");
    assertThat(json(fixture.get("/v1/jobs/" + id, "Authorization", ALICE), 200).getString("status"))
        .isEqualTo("queued");
    assertNotFoundAsIfUnknown(id, BOB);

    fixture.pipeline().complete(FakePipeline.ok(fixture.pipeline().awaitRequest(id), " for alice only", "stop"));
    await().atMost(TestHttp.WAIT).until(() -> json(fixture.get("/v1/jobs/" + id, "Authorization", ALICE), 200)
        .getString("status"), "done"::equals);
    assertNotFoundAsIfUnknown(id, BOB);
  }

  @Test
  void aSynchronousCompletionIsAlsoItsCallersOnly() throws Exception {
    String prompt = "sync for bob " + UUID.randomUUID();
    CompletableFuture<HttpResponse<String>> pending = TestHttp.postAsync(fixture.gateway(), "/v1/completions",
        body(prompt), "Authorization", BOB);
    GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
    fixture.pipeline().complete(FakePipeline.ok(request, " bob's", "stop"));
    json(pending.get(TestHttp.WAIT.toSeconds(), TimeUnit.SECONDS), 200);

    json(fixture.get("/v1/jobs/" + request.getRequestId(), "Authorization", BOB), 200);
    assertNotFoundAsIfUnknown(request.getRequestId(), ALICE);
  }

  @Test
  void callersWhoPickTheSameIdempotencyKeyGetTheirOwnJobs() throws Exception {
    String key = "order-" + UUID.randomUUID();
    String body = body("same key " + key);
    String alices = json(fixture.post("/v1/jobs", body, "Authorization", ALICE, "Idempotency-Key", key), 202)
        .getString("id");
    HttpResponse<String> bobsFirst = fixture.post("/v1/jobs", body, "Authorization", BOB, "Idempotency-Key", key);
    String bobs = json(bobsFirst, 202).getString("id");
    assertThat(bobs).isNotEqualTo(alices);
    // Bob's key is his own: no replay of alice's job, and his retry replays his.
    assertThat(bobsFirst.headers().firstValue("Idempotent-Replayed")).isEmpty();
    HttpResponse<String> bobsRetry = fixture.post("/v1/jobs", body, "Authorization", BOB, "Idempotency-Key", key);
    assertThat(json(bobsRetry, 202).getString("id")).isEqualTo(bobs);
    assertThat(bobsRetry.headers().firstValue("Idempotent-Replayed")).hasValue("true");

    assertThat(fixture.pipeline().timesPublished(alices)).isEqualTo(1);
    assertThat(fixture.pipeline().timesPublished(bobs)).isEqualTo(1);
    assertNotFoundAsIfUnknown(alices, BOB);
  }

  @Test
  void aRestartedGatewayKnowsWhoseJobsItReadsBack() throws Exception {
    String id = json(fixture.post("/v1/jobs", body("before restart " + UUID.randomUUID()), "Authorization", ALICE),
        202).getString("id");
    fixture.pipeline().complete(FakePipeline.ok(fixture.pipeline().awaitRequest(id), " remembered", "stop"));
    await().atMost(TestHttp.WAIT).until(() -> json(fixture.get("/v1/jobs/" + id, "Authorization", ALICE), 200)
        .getString("status"), "done"::equals);

    try (GatewayService fresh = fixture.startGateway(Map.of())) {
      JsonObject job = await().atMost(TestHttp.WAIT)
          .until(() -> get(fresh, "/v1/jobs/" + id, "Authorization", ALICE), r -> r.statusCode() == 200)
          .body().transform(JsonObject::new);
      assertThat(job.getString("status")).isEqualTo("done");
      assertThat(error(get(fresh, "/v1/jobs/" + id, "Authorization", BOB), 404).getString("code"))
          .isEqualTo("job_not_found");
    }
  }

  // ---- how fast ----

  @Test
  void eachKeyHasItsOwnRateLimit() throws Exception {
    // One request per 100 s after a burst of 2: the third request within the test is over the limit, however slow
    // the machine.
    try (GatewayService limited = fixture.startGateway(Map.of("AIGC_RATE_LIMIT", "0.01",
        "AIGC_RATE_BURST", "2"))) {
      error(get(limited, "/v1/jobs/cmpl-1", "Authorization", ALICE), 404);
      error(get(limited, "/v1/jobs/cmpl-2", "Authorization", ALICE), 404);
      HttpResponse<String> refused = get(limited, "/v1/jobs/cmpl-3", "Authorization", ALICE);
      JsonObject error = error(refused, 429);
      assertThat(error.getString("type")).isEqualTo("rate_limit_error");
      assertThat(error.getString("code")).isEqualTo("rate_limit_exceeded");
      assertThat(error.getString("message")).contains("this API key");
      assertThat(Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow())).isBetween(90, 100);
      // A refused request takes nothing from the bucket: still refused, for as long.
      assertThat(get(limited, "/v1/jobs/cmpl-4", "Authorization", ALICE).statusCode()).isEqualTo(429);
      // Bob's bucket is his own; probes and failed keys take from nobody's.
      error(get(limited, "/v1/jobs/cmpl-1", "Authorization", BOB), 404);
      for (int i = 0; i < 5; i++) {
        assertThat(get(limited, "/healthz").statusCode()).isEqualTo(200);
        error(get(limited, "/v1/jobs/cmpl-1", "Authorization", bearer("sk-guess")), 401);
      }
      error(get(limited, "/v1/jobs/cmpl-2", "Authorization", BOB), 404);

      // Counted as each response ends: awaited, not raced.
      await().atMost(TestHttp.WAIT).untilAsserted(() -> {
        assertThat(metric(limited, "aigc_gateway_key_requests_total{key=\"alice\",status=\"404\"}")).isEqualTo(2);
        assertThat(metric(limited, "aigc_gateway_key_requests_total{key=\"alice\",status=\"429\"}")).isEqualTo(2);
        assertThat(metric(limited, "aigc_gateway_key_requests_total{key=\"bob\",status=\"404\"}")).isEqualTo(2);
        assertThat(metric(limited, "aigc_gateway_rejected_total{reason=\"rate_limit\"}")).isEqualTo(2);
        assertThat(metric(limited, "aigc_gateway_unauthorized_total{code=\"invalid_api_key\"}")).isEqualTo(5);
      });
    }
  }

  @Test
  void metricsNameCallersNeverKeys() throws Exception {
    error(fixture.get("/v1/jobs/cmpl-metered", "Authorization", ALICE), 404);
    error(fixture.get("/v1/jobs/cmpl-metered"), 401);
    String metrics = fixture.get("/metrics").body();
    String hash = TestKeys.entry("alice", TestKeys.ALICE).substring("alice:".length());
    assertThat(metrics)
        .contains("aigc_gateway_key_requests_total{key=\"alice\",status=\"404\"}")
        .contains("aigc_gateway_unauthorized_total{code=\"missing_api_key\"}")
        .doesNotContain(TestKeys.ALICE).doesNotContain(hash);
  }

  // ---- what is logged ----

  @Test
  void neitherKeysNorPromptsNorCompletionsAreLogged() throws Exception {
    String prompt = "a prompt nobody may read " + UUID.randomUUID();
    String text = " a completion nobody may read " + UUID.randomUUID();
    String guessed = "sk-guessed-" + UUID.randomUUID();
    List<String> lines;
    try (CapturedLogs logs = CapturedLogs.start()) {
      try (GatewayService logged = fixture.startGateway(Map.of())) {
        // A sync completion, a failed job, refused keys, a refused body.
        CompletableFuture<HttpResponse<String>> answered = TestHttp.postAsync(logged, "/v1/completions", body(prompt),
            "Authorization", ALICE);
        GenerationRequest request = fixture.pipeline().awaitPrompt(prompt);
        fixture.pipeline().complete(FakePipeline.ok(request, text, "stop"));
        json(answered.get(TestHttp.WAIT.toSeconds(), TimeUnit.SECONDS), 200);
        String failed = json(post(logged, "/v1/jobs", body(prompt + " fails"), "Authorization", ALICE), 202)
            .getString("id");
        fixture.pipeline().complete(FakePipeline.failed(fixture.pipeline().awaitRequest(failed),
            "internal_error", text));
        await().atMost(TestHttp.WAIT).until(() -> json(get(logged, "/v1/jobs/" + failed, "Authorization", ALICE),
            200).getString("status"), "failed"::equals);
        error(get(logged, "/v1/jobs/" + failed, "Authorization", bearer(guessed)), 401);
        error(get(logged, "/v1/jobs/" + failed, "Authorization", guessed), 401);
        error(post(logged, "/v1/jobs", "{\"prompt\":\"" + prompt + "\",\"max_tokens\":0}", "Authorization", ALICE),
            400);
      }
      lines = logs.lines();
    }
    String aliceHash = TestKeys.entry("alice", TestKeys.ALICE).substring("alice:".length());
    assertThat(lines).as("the gateway's log").isNotEmpty()
        .anySatisfy(line -> assertThat(line).contains("accepting 2 API keys"));
    assertThat(String.join("\n", lines)).as("the gateway's log")
        .doesNotContain(TestKeys.ALICE).doesNotContain(TestKeys.BOB).doesNotContain(aliceHash)
        .doesNotContain(guessed).doesNotContain(prompt).doesNotContain(text.strip());
  }

  // ---- without keys ----

  @Test
  void openAccessServesWithoutKeysAndSaysSoOnce() throws Exception {
    Map<String, String> open = Map.of("AIGC_AUTH", "none", "AIGC_API_KEYS", "");
    List<String> lines;
    try (CapturedLogs logs = CapturedLogs.start()) {
      try (GatewayService anonymous = fixture.startGateway(open)) {
        String prompt = "anonymous " + UUID.randomUUID();
        String id = json(post(anonymous, "/v1/jobs", body(prompt)), 202).getString("id");
        assertThat(fixture.pipeline().awaitRequest(id).getMetadata()).doesNotContainKey("api_key_name");
        assertThat(json(get(anonymous, "/v1/jobs/" + id), 200).getString("status")).isEqualTo("queued");
        // A key, if sent, is ignored rather than checked.
        json(post(anonymous, "/v1/jobs", body(prompt), "Authorization", bearer("sk-anything")), 202);
        // The key name stays reserved: nobody can attribute a job to a caller that did not send it.
        error(post(anonymous, "/v1/jobs", new JsonObject().put("prompt", prompt)
            .put("metadata", new JsonObject().put("api_key_name", "alice")).encode()), 400);
        // Jobs of keyed callers stay theirs. (Its completion is sent twice: once the anonymous gateway counts the
        // duplicate, it holds the job.)
        String alices = json(fixture.post("/v1/jobs", body("keyed"), "Authorization", ALICE), 202).getString("id");
        GenerationRequest request = fixture.pipeline().awaitRequest(alices);
        fixture.pipeline().complete(FakePipeline.ok(request, " keyed", "stop"));
        fixture.pipeline().complete(FakePipeline.ok(request, " keyed", "stop"));
        await().atMost(TestHttp.WAIT).until(() -> metric(anonymous, "aigc_gateway_completions_duplicate_total") >= 1);
        error(get(anonymous, "/v1/jobs/" + alices), 404);
      }
      lines = logs.lines();
    }
    assertThat(lines.stream().filter(line -> line.startsWith("WARN") && line.contains("AIGC_AUTH=none")))
        .hasSize(1);
  }

  private static void assertNotFoundAsIfUnknown(String id, String caller) throws Exception {
    JsonObject theirs = json(fixture.get("/v1/jobs/" + id, "Authorization", caller), 404);
    String unknown = "cmpl-" + "u".repeat(24);
    JsonObject nobodys = json(fixture.get("/v1/jobs/" + unknown, "Authorization", caller), 404);
    assertThat(theirs.encode()).isEqualTo(nobodys.encode().replace(unknown, id));
  }

  private static String body(String prompt) {
    return new JsonObject().put("prompt", prompt).put("max_tokens", 4).encode();
  }
}
