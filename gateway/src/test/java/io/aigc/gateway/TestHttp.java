package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The JDK's HTTP client against a test gateway; headers are given as name, value pairs. */
final class TestHttp {
  static final Duration WAIT = Duration.ofSeconds(15);
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private TestHttp() {}

  static String bearer(String key) {
    return "Bearer " + key;
  }

  static HttpResponse<String> get(GatewayService gateway, String path, String... headers) throws Exception {
    return send(builder(gateway, path, headers).GET());
  }

  static HttpResponse<String> post(GatewayService gateway, String path, String json, String... headers)
      throws Exception {
    return send(posting(gateway, path, json, headers));
  }

  /** The same POST, answered later: for a request whose answer waits for the pipeline. */
  static CompletableFuture<HttpResponse<String>> postAsync(GatewayService gateway, String path, String json,
      String... headers) {
    return CLIENT.sendAsync(posting(gateway, path, json, headers).build(), BodyHandlers.ofString());
  }

  private static HttpRequest.Builder posting(GatewayService gateway, String path, String json, String... headers) {
    return builder(gateway, path, headers).header("Content-Type", "application/json")
        .POST(BodyPublishers.ofString(json));
  }

  static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return CLIENT.send(request.build(), BodyHandlers.ofString());
  }

  static HttpRequest.Builder builder(GatewayService gateway, String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.httpPort() + path))
        .timeout(WAIT);
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b;
  }

  /** The body as JSON, after checking the status and that it is JSON. */
  static JsonObject json(HttpResponse<String> response, int status) {
    assertThat(response.statusCode()).as("status of %s", response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    return new JsonObject(response.body());
  }

  /** The error object of an OpenAI error body, after checking the status. */
  static JsonObject error(HttpResponse<String> response, int status) {
    JsonObject body = json(response, status);
    assertThat(body.getJsonObject("error").fieldNames()).contains("message", "type", "param", "code");
    return body.getJsonObject("error");
  }

  /** A series' value from /metrics (0 when absent). */
  static double metric(GatewayService gateway, String series) throws Exception {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE)
        .matcher(get(gateway, "/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  /** Whether /metrics has the series at all. */
  static boolean hasMetric(GatewayService gateway, String series) throws Exception {
    return Pattern.compile("^" + Pattern.quote(series) + " ", Pattern.MULTILINE)
        .matcher(get(gateway, "/metrics").body()).find();
  }
}
