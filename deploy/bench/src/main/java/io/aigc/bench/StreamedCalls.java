package io.aigc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Streamed completions over Server-Sent Events, noting when each chunk with text reaches the client, so what a
 * streaming client sees can be set against what the worker did: the first token's arrival against the worker's own
 * first token, and the gaps between chunks against the worker's time per token.
 */
final class StreamedCalls {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One streamed request as the client saw it: epoch microseconds of its sending and of each chunk with text. */
  record Arrivals(long sentMicros, List<Long> chunkMicros, int tokens) {}

  /**
   * One level of streamed load.
   *
   * @param clientFirstTokenP50 from sending the request to its first chunk with text
   * @param firstTokenLagP50 from the worker's first token to its arrival at the client
   * @param interTokenP50 between consecutive chunks with text, at the client
   * @param workerStepP50 the worker's time per token of the same requests (decode time over tokens after the first)
   */
  record Row(int concurrency, double tokensPerSecond, double requestsPerSecond, double clientFirstTokenP50,
      double firstTokenLagP50, double interTokenP50, double workerStepP50, int requests) {}

  private final HttpClient http;
  private final URI uri;
  private final String body;
  private final Map<String, Arrivals> byId = new ConcurrentHashMap<>();

  /** Calls {@code uri} with {@code request} (a completions body), streamed with usage. */
  StreamedCalls(HttpClient http, URI uri, Map<String, Object> request) throws Exception {
    this.http = http;
    this.uri = uri;
    Map<String, Object> streamed = new HashMap<>(request);
    streamed.put("stream", true);
    streamed.put("stream_options", Map.of("include_usage", true));
    this.body = JSON.writeValueAsString(streamed);
  }

  ClosedLoop.Result call() throws Exception {
    long sent = LatencyTrace.micros(Instant.now());
    HttpResponse<Stream<String>> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofLines());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("HTTP " + response.statusCode());
    }
    List<Long> chunks = new ArrayList<>();
    String id = null;
    int tokens = -1;
    try (Stream<String> lines = response.body()) {
      for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
        String line = it.next();
        if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
          continue;
        }
        long at = LatencyTrace.micros(Instant.now());
        JsonNode chunk = JSON.readTree(line.substring(6));
        if (chunk.has("error")) {
          throw new IllegalStateException("stream error: " + chunk.get("error"));
        }
        id = chunk.get("id").asText();
        if (chunk.path("usage").has("completion_tokens")) {
          tokens = chunk.get("usage").get("completion_tokens").asInt();
        }
        JsonNode choices = chunk.get("choices");
        if (choices.size() > 0 && !choices.get(0).path("text").asText("").isEmpty()) {
          chunks.add(at);
        }
      }
    }
    if (id == null || tokens < 0) {
      throw new IllegalStateException("a stream ended without its usage");
    }
    byId.put(id, new Arrivals(sent, chunks, tokens));
    return new ClosedLoop.Result(tokens, id);
  }

  /** The level's figures, joined with the worker's timings of the same requests. */
  Row row(ClosedLoop.Measurement m, Map<String, Benchmark.WorkerTiming> timings) {
    List<Double> firstToken = new ArrayList<>();
    List<Double> lag = new ArrayList<>();
    List<Double> gaps = new ArrayList<>();
    List<Double> steps = new ArrayList<>();
    for (ClosedLoop.Done d : m.done()) {
      Arrivals a = byId.get(d.id());
      Benchmark.WorkerTiming t = timings.get(d.id());
      if (a == null || t == null || a.chunkMicros().isEmpty()) {
        continue;
      }
      long first = a.chunkMicros().get(0);
      firstToken.add((first - a.sentMicros()) / 1000.0);
      long workerFirstTokenMicros = (t.createdAtMs() + t.queueMs() + t.timeToFirstTokenMs()) * 1000;
      lag.add((first - workerFirstTokenMicros) / 1000.0);
      for (int i = 1; i < a.chunkMicros().size(); i++) {
        gaps.add((a.chunkMicros().get(i) - a.chunkMicros().get(i - 1)) / 1000.0);
      }
      if (a.tokens() > 1) {
        steps.add((double) t.decodeMs() / (a.tokens() - 1));
      }
    }
    return new Row(m.clients(), m.tokensPerSecond(), m.requestsPerSecond(), Stats.percentile(firstToken, 50),
        Stats.percentile(lag, 50), Stats.percentile(gaps, 50), Stats.percentile(steps, 50), m.done().size());
  }
}
