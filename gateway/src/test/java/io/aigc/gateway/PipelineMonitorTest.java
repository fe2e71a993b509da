package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The panel's readings against services played by a local HTTP server whose metrics the test sets. */
class PipelineMonitorTest {
  private final Map<String, String> bodies = new ConcurrentHashMap<>();
  private HttpServer server;

  @BeforeEach
  void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      String body = bodies.get(exchange.getRequestURI().getPath());
      byte[] bytes = (body == null ? "not found" : body).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(body == null ? 404 : 200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private URI url(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  private static String worker(double tokens, double rows, double steps, double firstSeconds, double requests,
      double deadLetters) {
    return """
        # TYPE aigc_num_requests_waiting gauge
        aigc_num_requests_waiting{model="tiny-llama"} 2
        aigc_num_requests_running{model="tiny-llama"} 3
        aigc_worker_running_sequences 5
        aigc_generation_tokens_total{model="tiny-llama"} %s
        aigc_worker_batch_rows_bucket{le="+Inf"} %s
        aigc_worker_batch_rows_count %s
        aigc_worker_batch_rows_sum %s
        aigc_time_to_first_token_seconds_count{model="tiny-llama"} %s
        aigc_time_to_first_token_seconds_sum{model="tiny-llama"} %s
        aigc_dead_letters_total{service="inference-worker",reason="not_avro"} %s
        """.formatted(tokens, steps, steps, rows, requests, firstSeconds, deadLetters);
  }

  @Test
  void workersBatchesRatesAndDeadLettersFromTheMetrics() throws Exception {
    bodies.put("/worker", worker(100, 40, 10, 1.5, 10, 1));
    bodies.put("/tokenizer", """
        # TYPE aigc_tokenizer_prompt_tokens histogram
        aigc_dead_letters_total{service="tokenizer-service",reason="not_avro"} 2
        """);
    bodies.put("/postprocessor", "# TYPE aigc_postprocessor_completions counter\n");
    bodies.put("/other", "# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total 3\n");
    URI closed = URI.create("http://127.0.0.1:" + freePort() + "/metrics");
    PipelineMonitor monitor = new PipelineMonitor(List.of(url("/worker"), url("/tokenizer"), url("/postprocessor"),
        url("/other"), url("/missing"), closed), Duration.ofSeconds(1));

    monitor.read();
    PipelineMonitor.View first = monitor.view();
    assertThat(first.history()).as("a rate needs two readings").isEmpty();
    assertThat(first.targets()).extracting(PipelineMonitor.Target::kind).containsExactly("inference-worker",
        "tokenizer-service", "postprocessor", null, null, null);
    assertThat(first.targets()).extracting(PipelineMonitor.Target::deadLetters).containsExactly(1.0, 2.0, 0.0, 0.0,
        0.0, 0.0);
    assertThat(first.targets().get(0).worker()).isEqualTo(new PipelineMonitor.Worker(2, 3, 5, null));
    assertThat(first.targets().subList(3, 6)).noneMatch(PipelineMonitor.Target::up);
    assertThat(first.targets().get(3).error()).isEqualTo("no aigc metrics there");
    assertThat(first.targets().get(4).error()).isEqualTo("IllegalStateException: HTTP 404");
    assertThat(first.targets().get(5).error()).startsWith("ConnectException");

    // 60 more tokens in 6 steps of 3 rows; 2 more requests, 0.12 s from creation to their first token on average.
    bodies.put("/worker", worker(160, 58, 16, 1.74, 12, 1));
    monitor.read();
    PipelineMonitor.View second = monitor.view();
    assertThat(second.targets().get(0).worker().meanBatch()).isEqualTo(3.0);
    assertThat(second.history()).hasSize(1);
    PipelineMonitor.Point point = second.history().get(0);
    assertThat(point.tokensPerSecond()).isPositive();
    assertThat(point.requestsPerSecond()).isPositive();
    assertThat(point.firstTokenMs()).isCloseTo(120.0, org.assertj.core.data.Offset.offset(1e-6));

    // A restart puts the counters back: no rate for that interval, and none invented.
    bodies.put("/worker", worker(5, 2, 1, 0.02, 1, 0));
    monitor.read();
    assertThat(monitor.view().history()).hasSize(1);
    assertThat(monitor.view().targets().get(0).worker().meanBatch()).isNull();

    // Nothing generated in an interval: a rate of 0 and no time to first token.
    monitor.read();
    assertThat(monitor.view().history()).hasSize(2);
    assertThat(monitor.view().history().get(1).tokensPerSecond()).isZero();
    assertThat(monitor.view().history().get(1).firstTokenMs()).isNull();
  }

  @Test
  void keepsALimitedHistory() throws Exception {
    bodies.put("/worker", worker(0, 0, 0, 0, 0, 0));
    PipelineMonitor monitor = new PipelineMonitor(List.of(url("/worker")), Duration.ofSeconds(1));
    for (int i = 0; i < PipelineMonitor.HISTORY + 5; i++) {
      monitor.read();
    }
    assertThat(monitor.view().history()).hasSize(PipelineMonitor.HISTORY);
  }

  @Test
  void withoutUrlsThereIsNothingToRead() {
    PipelineMonitor monitor = new PipelineMonitor(List.of(), Duration.ofSeconds(1));
    monitor.start();
    assertThat(monitor.view()).isEqualTo(PipelineMonitor.View.EMPTY);
    monitor.close();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
