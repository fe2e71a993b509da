package io.aigc.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Jobs offered to the gateway at a steady rate whatever the answers (an open loop, as upstream systems publish), each
 * answer sorted: accepted (202, with its job id), refused (429, with or without {@code Retry-After}), or a failure
 * (any other answer, or none).
 */
final class OpenLoad implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  // A connection is given as long as an answer: on a loaded 2-core CI machine, where the test's own client shares the
  // cores with the broker and four services, 5-second connect timeouts failed OverloadTest once (CI, 2026-12-01).
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(30)).build();
  private final HttpRequest job;
  private final double perSecond;
  private final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger offered = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger refusedWithoutRetryAfter = new AtomicInteger();
  private final Set<CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();
  private final Thread thread = new Thread(this::run, "open-load");
  private volatile boolean running = true;

  private OpenLoad(HttpRequest job, double perSecond) {
    this.job = job;
    this.perSecond = perSecond;
  }

  /** Starts offering {@code POST /v1/jobs} with {@code body} to the gateway on {@code port}. */
  static OpenLoad start(int port, String body, double perSecond) {
    OpenLoad load = new OpenLoad(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/jobs"))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), perSecond);
    load.thread.start();
    return load;
  }

  private void run() {
    long start = System.nanoTime();
    for (long sent = 0; running; sent++) {
      long wait = start + (long) (sent * 1e9 / perSecond) - System.nanoTime();
      if (wait > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(wait); // pacing an open-loop load
        } catch (InterruptedException e) {
          return;
        }
      }
      CompletableFuture<Void> answer = http.sendAsync(job, HttpResponse.BodyHandlers.ofString()).handle((r, e) -> {
        sort(r, e);
        return null;
      });
      offered.incrementAndGet();
      pending.add(answer);
      answer.whenComplete((v, e) -> pending.remove(answer));
    }
  }

  private void sort(HttpResponse<String> r, Throwable e) {
    if (e != null) {
      failures.add(e.toString());
    } else if (r.statusCode() == 202) {
      try {
        accepted.add(JSON.readTree(r.body()).get("id").asText());
      } catch (IOException ex) {
        failures.add("unreadable 202: " + r.body());
      }
    } else if (r.statusCode() == 429) {
      refused.incrementAndGet();
      if (r.headers().firstValue("Retry-After").isEmpty()) {
        refusedWithoutRetryAfter.incrementAndGet();
      }
    } else {
      failures.add(r.statusCode() + ": " + r.body());
    }
  }

  /** Stops offering jobs and waits for the answers to those offered. */
  void stop() throws Exception {
    running = false;
    thread.join();
    CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0])).get(2, TimeUnit.MINUTES);
  }

  /** One more job, offered on its own, outside the load: its answer's status. */
  int offerOne() throws IOException, InterruptedException {
    return http.send(job, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  int offered() {
    return offered.get();
  }

  List<String> accepted() {
    synchronized (accepted) {
      return List.copyOf(accepted);
    }
  }

  int refused() {
    return refused.get();
  }

  int refusedWithoutRetryAfter() {
    return refusedWithoutRetryAfter.get();
  }

  List<String> failures() {
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }

  @Override
  public void close() {
    running = false;
  }
}
