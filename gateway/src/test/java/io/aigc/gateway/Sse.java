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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Server-Sent Events response read line by line, as an OpenAI client reads a stream: each event one
 * {@code data: ...} line and a blank line. Reading blocks until the gateway sends the next event.
 */
final class Sse {
  static final String DONE = "[DONE]";
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private final HttpResponse<Stream<String>> response;
  private final Iterator<String> lines;

  private Sse(HttpResponse<Stream<String>> response) {
    this.response = response;
    this.lines = response.body().iterator();
  }

  /** Posts {@code json} with alice's key; the answer's headers come with its first event (or its error). */
  static CompletableFuture<HttpResponse<Stream<String>>> post(GatewayService gateway, String path, String json) {
    return CLIENT.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.httpPort() + path))
        .header("Authorization", "Bearer " + TestKeys.ALICE)
        .header("Content-Type", "application/json")
        .POST(BodyPublishers.ofString(json)).build(), BodyHandlers.ofLines());
  }

  /** The stream, after checking it is one. */
  static Sse of(CompletableFuture<HttpResponse<Stream<String>>> pending) throws Exception {
    HttpResponse<Stream<String>> response = pending.get(TestHttp.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
    assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-cache");
    return new Sse(response);
  }

  /** An answer that is not a stream: its status and JSON body. */
  static JsonObject error(CompletableFuture<HttpResponse<Stream<String>>> pending, int status) throws Exception {
    HttpResponse<Stream<String>> response = pending.get(TestHttp.WAIT.toSeconds(), TimeUnit.SECONDS);
    String body = String.join("\n", response.body().toList());
    assertThat(response.statusCode()).as(body).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    return new JsonObject(body);
  }

  /** The next event's data, or null when the stream has ended. */
  String next() {
    while (lines.hasNext()) {
      String line = lines.next();
      if (line.startsWith("data: ")) {
        assertThat(lines.hasNext() ? lines.next() : null).as("the blank line after %s", line).isEmpty();
        return line.substring("data: ".length());
      }
      assertThat(line).as("a line outside an event").isEmpty();
    }
    return null;
  }

  /** The next event, a JSON chunk. */
  JsonObject nextJson() {
    String data = next();
    assertThat(data).as("the next event").isNotNull().isNotEqualTo(DONE);
    return new JsonObject(data);
  }

  /** The JSON chunks up to [DONE], after which the stream must end. */
  List<JsonObject> untilDone() {
    List<JsonObject> chunks = new ArrayList<>();
    for (String data = next(); ; data = next()) {
      assertThat(data).as("an event, or [DONE] before the end").isNotNull();
      if (data.equals(DONE)) {
        assertThat(next()).as("anything after [DONE]").isNull();
        return chunks;
      }
      chunks.add(new JsonObject(data));
    }
  }

  HttpResponse<Stream<String>> response() {
    return response;
  }
}
