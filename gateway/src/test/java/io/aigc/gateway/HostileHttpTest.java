package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.gateway.HostileCorpus.Case;
import io.aigc.gateway.RawHttp.Response;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link HostileCorpus} against a gateway over raw sockets: every malformed request gets a clear 4xx with
 * OpenAI's error body (never a 5xx, never silence), the connection keeps serving (or is closed on purpose, after
 * the answer, when the rest of the request cannot be read), and fifty rounds of it leave the heap where one did.
 */
@Timeout(120)
class HostileHttpTest {
  /** Any answer slower than this is a hang. */
  private static final Duration ANSWER = Duration.ofSeconds(10);
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(2);
  private static final byte[] HEALTH = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
      .getBytes(StandardCharsets.ISO_8859_1);
  private static final List<Case> CORPUS = HostileCorpus.cases();
  private static final int ROUNDS = 50;
  /**
   * How much the live heap may grow between the first round and the fiftieth. A round sends about 2.6 MB in
   * ~270 requests, so keeping the requests (or their bodies) would add over 100 MB in 49 rounds, and keeping
   * anything per request (a map entry, a metric series per malformed path, a connection) breaks 4 MB from about
   * 320 bytes a request on (4 MB / (49 x ~270)). Measured here, the growth is about 0.15 MB (the broker's and the
   * clients' metric windows filling up), so the bound does not flap.
   */
  private static final long HEAP_GROWTH_BOUND = 4L * 1024 * 1024;

  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.gatewayOnly();

  static List<Case> corpus() {
    return CORPUS;
  }

  @Test
  void theCorpusHasOverAHundredDistinctCases() {
    assertThat(CORPUS).hasSizeGreaterThan(100);
    assertThat(CORPUS.stream().map(Case::name).collect(Collectors.toSet())).hasSameSizeAs(CORPUS);
    assertThat(CORPUS).allSatisfy(c -> assertThat(c.status()).isBetween(400, 499));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void answersWithAClearClientErrorAndKeepsServing(Case c) throws Exception {
    try (RawHttp http = new RawHttp(fixture.gateway().httpPort(), ANSWER)) {
      Response response = http.exchange(c.request(), c.head());
      assertClearClientError(c, response);
      if (c.closes()) {
        assertThat(response.closesConnection()).as("%s: Connection: close", c).isTrue();
        assertThat(http.closedByServer()).as("%s: the server closed the connection", c).isTrue();
      } else {
        assertThat(response.closesConnection()).as("%s: Connection: close", c).isFalse();
        assertThat(http.exchange(HEALTH, false).status()).as("%s: the same connection serves on", c)
            .isEqualTo(200);
      }
    }
    try (RawHttp fresh = new RawHttp(fixture.gateway().httpPort(), ANSWER)) {
      assertThat(fresh.exchange(HEALTH, false).status()).as("%s: a new connection is served", c).isEqualTo(200);
    }
  }

  @Test
  @Timeout(300)
  void heapStaysFlatOverFiftyRoundsOfTheCorpus() throws Exception {
    long corpusBytes = CORPUS.stream().mapToLong(c -> c.request().length).sum();
    List<String> gatewayLines;
    long first;
    long last;
    try (CapturedLogs logs = CapturedLogs.start()) {
      // The first round warms up what is made once: compiled code, buffer pools, the metric series of each route.
      round();
      first = liveHeap();
      for (int i = 1; i < ROUNDS; i++) {
        round();
      }
      last = liveHeap();
      gatewayLines = logs.lines().stream().filter(line -> line.contains(" io.aigc.")).toList();
    }
    System.out.printf("hostile corpus: %d requests, %d bytes a round; live heap after round 1: %d bytes, after "
        + "round %d: %d bytes (%+d)%n", CORPUS.size(), corpusBytes, first, ROUNDS, last, last - first);
    assertThat(last - first).as("live heap growth over %d rounds", ROUNDS - 1).isLessThan(HEAP_GROWTH_BOUND);
    // Hostile input is answered, not logged: nothing for a sender of garbage to fill the log with.
    assertThat(gatewayLines).as("gateway log lines while serving the corpus").isEmpty();
    // And none of it became a job.
    assertThat(fixture.metric("aigc_gateway_requests_published_total")).isZero();
    assertThat(fixture.metric("aigc_gateway_in_flight")).isZero();
  }

  @Test
  void aRequestThatNeverFinishesIsCutOffAtTheIdleTimeout() throws Exception {
    // A gateway of its own: an idle timeout this short would be a hazard for the corpus on a busy machine.
    try (GatewayService impatient = fixture.startGateway(Map.of("AIGC_SYNC_TIMEOUT", "1s",
        "AIGC_STREAM_IDLE_TIMEOUT", "1s", "AIGC_HTTP_IDLE_TIMEOUT", IDLE_TIMEOUT.toMillis() + "ms"))) {
      cutOffAtTheIdleTimeout(impatient.httpPort());
    }
  }

  private static void cutOffAtTheIdleTimeout(int port) throws Exception {
    List<String> partial = List.of(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n",
        "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestKeys.ALICE
            + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"prompt\":",
        "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestKeys.ALICE
            + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"pro\r\n");
    List<RawHttp> connections = new ArrayList<>();
    try {
      for (String request : partial) {
        // Read timeout well past the idle timeout: the server must close first.
        RawHttp http = new RawHttp(port, IDLE_TIMEOUT.multipliedBy(4));
        connections.add(http);
        http.send(request.getBytes(StandardCharsets.ISO_8859_1));
      }
      for (int i = 0; i < partial.size(); i++) {
        assertThat(connections.get(i).closedByServer()).as("closed: %s", partial.get(i)).isTrue();
      }
    } finally {
      for (RawHttp http : connections) {
        http.close();
      }
    }
    try (RawHttp fresh = new RawHttp(port, ANSWER)) {
      assertThat(fresh.exchange(HEALTH, false).status()).isEqualTo(200);
    }
  }

  private static void assertClearClientError(Case c, Response response) {
    String body = response.text();
    assertThat(response.status()).as("%s: status; body %s", c, body).isEqualTo(c.status());
    assertThat(response.header("Content-Type")).as("%s: content type", c).isEqualTo("application/json");
    if (c.head()) {
      // A HEAD answer carries no body, by HTTP.
      return;
    }
    JsonObject error = new JsonObject(body).getJsonObject("error");
    assertThat(error).as("%s: OpenAI's error object in %s", c, body).isNotNull();
    assertThat(error.fieldNames()).as("%s: error fields", c)
        .containsExactlyInAnyOrder("message", "type", "param", "code");
    assertThat(error.getString("message")).as("%s: message", c).isNotBlank();
    assertThat(error.getString("type")).as("%s: type", c).isEqualTo("invalid_request_error");
    assertThat(error.getString("code")).as("%s: code; body %s", c, body).isEqualTo(c.code());
  }

  /** Sends the whole corpus once, on as few connections as the server allows. */
  private static void round() throws Exception {
    RawHttp http = null;
    try {
      for (Case c : CORPUS) {
        if (http == null) {
          http = new RawHttp(fixture.gateway().httpPort(), ANSWER);
        }
        Response response = http.exchange(c.request(), c.head());
        assertThat(response.status()).as(c.name()).isEqualTo(c.status());
        if (response.closesConnection()) {
          http.close();
          http = null;
        }
      }
    } finally {
      if (http != null) {
        http.close();
      }
    }
  }

  /**
   * The heap in use after full collections, once the connections the corpus had closed are gone (each lingers
   * {@link Connections#LINGER_MS} after its answer): what the gateway still holds. Read per pool as it was right after
   * the collection, so what other threads allocate a moment later does not count.
   */
  private static long liveHeap() {
    // The one connection left is the JDK client's that asks.
    await().atMost(ANSWER).until(() -> fixture.metric("aigc_gateway_http_connections") <= 1);
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    long used = 0;
    for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getCollectionUsage() != null) {
        used += pool.getCollectionUsage().getUsed();
      }
    }
    return used;
  }
}
