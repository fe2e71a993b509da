package io.aigc.gateway;

import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.error;
import static io.aigc.gateway.TestHttp.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The playground over HTTP with access control on: the page is public and locked down by its headers, its pipeline
 * figures are behind the key, and the rest of the API is as before. The other services' metrics are played by a
 * local HTTP server.
 */
@Timeout(60)
class PlaygroundHttpTest {
  private static final String ALICE = bearer(TestKeys.ALICE);
  private static final List<String> FILES = List.of("app.js", "api.js", "panel.js", "style.css", "icon.svg");
  private static HttpServer worker;
  // The gateway is told where the worker's metrics are once the worker has a port.
  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.gatewayOnly().env(() -> Map.of(
      "AIGC_PIPELINE_METRICS_URLS", "http://127.0.0.1:" + startWorker() + "/metrics",
      "AIGC_PIPELINE_INTERVAL", "100ms",
      "AIGC_BACKLOG_INTERVAL", "100ms"));

  /** A worker's metrics endpoint; its port. */
  private static int startWorker() {
    try {
      worker = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    worker.createContext("/metrics", exchange -> {
      byte[] body = """
          aigc_num_requests_waiting{model="tiny-llama"} 1
          aigc_num_requests_running{model="tiny-llama"} 2
          aigc_worker_running_sequences 4
          aigc_dead_letters_total{service="inference-worker",reason="not_avro"} 3
          """.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    worker.start();
    return worker.getAddress().getPort();
  }

  @AfterAll
  static void stopWorker() {
    if (worker != null) {
      worker.stop(0);
    }
  }

  @Test
  void thePageNeedsNoKeyAndRunsOnlyItsOwnFiles() throws Exception {
    HttpResponse<String> page = fixture.get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith(
        "text/html"));
    assertThat(page.headers().firstValue("Content-Security-Policy"))
        .hasValue("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    assertThat(page.body()).contains("<script type=\"module\" src=\"/playground/app.js\"></script>");
    // No inline script or style for the policy to refuse.
    assertThat(page.body()).doesNotContain("<style", "style=", "onclick", "<script>");
    for (String file : FILES) {
      HttpResponse<String> served = fixture.get("/playground/" + file);
      assertThat(served.statusCode()).as(file).isEqualTo(200);
      assertThat(served.headers().firstValue("Content-Security-Policy")).as(file).isPresent();
    }
    assertThat(fixture.get("/playground/app.js").headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/javascript"));
  }

  @Test
  void modelOutputIsNeverParsedAsHtml() throws IOException {
    // What the model writes reaches the page as text only: no script of the page uses an HTML sink.
    for (String file : List.of("app.js", "api.js", "panel.js")) {
      String script = resource("webroot/playground/" + file);
      assertThat(script).as(file).doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
          "eval(", "new Function");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"/playground/missing.js", "/playground/../../etc/passwd", "/playground/%2e%2e/pom.xml",
      "/index.html", "/webroot/index.html", "/playground/.hidden"})
  void nothingElseIsServed(String path) throws Exception {
    assertThat(error(fixture.get(path), 404).getString("code")).isIn("unknown_url", "not_found");
  }

  @Test
  void thePageIsOnlyRead() throws Exception {
    HttpResponse<String> posted = TestHttp.send(fixture.request("/").POST(BodyPublishers.ofString("x")));
    assertThat(error(posted, 405).getString("code")).isEqualTo("method_not_allowed");
    assertThat(posted.headers().firstValue("Allow")).hasValue("GET");
  }

  @Test
  void pipelineFiguresNeedTheKey() throws Exception {
    assertThat(error(fixture.get("/v1/pipeline"), 401).getString("code")).isEqualTo("missing_api_key");
    // The API's own answers carry no page headers.
    assertThat(fixture.get("/v1/models", "Authorization", ALICE).headers().firstValue("Content-Security-Policy"))
        .isEmpty();
  }

  @Test
  void pipelineFiguresComeFromTheLagAndTheServicesMetrics() throws Exception {
    JsonObject pipeline = await().atMost(TestHttp.WAIT).until(
        () -> json(fixture.get("/v1/pipeline", "Authorization", ALICE), 200),
        p -> !p.getJsonArray("services").isEmpty() && p.getJsonObject("waiting").getValue("worker") != null);
    assertThat(pipeline.getString("object")).isEqualTo("pipeline");
    assertThat(pipeline.getLong("interval_ms")).isEqualTo(100);
    assertThat(pipeline.getJsonObject("waiting").getLong("tokenizer")).isZero();
    assertThat(pipeline.getJsonObject("waiting").getLong("worker")).isZero();
    assertThat(pipeline.getJsonObject("gateway").fieldNames()).containsExactlyInAnyOrder("in_flight",
        "streams_open");
    JsonObject service = pipeline.getJsonArray("services").getJsonObject(0);
    assertThat(service.getString("service")).isEqualTo("inference-worker");
    assertThat(service.getBoolean("up")).isTrue();
    assertThat(service.getJsonObject("worker")).isEqualTo(new JsonObject().put("waiting", 1)
        .put("running_requests", 2).put("running_sequences", 4).putNull("mean_batch"));
    assertThat(pipeline.getLong("dead_letters")).isEqualTo(3);
    assertThat(pipeline.getJsonArray("history")).isNotNull();
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = PlaygroundHttpTest.class.getClassLoader().getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
