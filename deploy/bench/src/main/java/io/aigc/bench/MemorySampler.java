package io.aigc.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Samples each service's memory while a benchmark runs: resident set size from {@code /proc/<pid>/status}, and heap
 * in use from the service's own {@code /metrics}. Keeps the peaks, and a time series for the soak.
 */
final class MemorySampler implements AutoCloseable {
  private static final Pattern HEAP = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"\\} (\\S+)$");

  /** A service to watch: its current PID (it may be restarted) and its metrics port. */
  record Target(String name, Supplier<Long> pid, int metricsPort) {}

  /** One sample of one service. */
  record Sample(long atMillis, String name, long rssBytes, long heapBytes) {}

  private final List<Target> targets;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private final Map<String, Long> peakHeap = new ConcurrentHashMap<>();
  private final Map<String, Long> peakRss = new ConcurrentHashMap<>();
  private final List<Sample> series = Collections.synchronizedList(new ArrayList<>());
  private final Thread thread;
  private volatile boolean running = true;

  MemorySampler(List<Target> targets, Duration every) {
    this.targets = List.copyOf(targets);
    long start = System.currentTimeMillis();
    this.thread = new Thread(() -> {
      while (running) {
        for (Target t : targets) {
          long rss = rss(t.pid().get(), "VmRSS");
          long heap = heap(t.metricsPort());
          peakRss.merge(t.name(), rss, Math::max);
          peakHeap.merge(t.name(), heap, Math::max);
          series.add(new Sample(System.currentTimeMillis() - start, t.name(), rss, heap));
        }
        try {
          Thread.sleep(every.toMillis()); // a sampling period
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "memory-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  /** The kernel's high-water mark of the process's resident set: its peak RSS since it started. */
  static long peakRss(long pid) {
    return rss(pid, "VmHWM");
  }

  long peakHeapBytes(String name) {
    return peakHeap.getOrDefault(name, 0L);
  }

  long peakSampledRssBytes(String name) {
    return peakRss.getOrDefault(name, 0L);
  }

  List<Sample> series(String name) {
    synchronized (series) {
      return series.stream().filter(s -> s.name().equals(name)).toList();
    }
  }

  private static long rss(Long pid, String field) {
    if (pid == null) {
      return 0;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc", pid.toString(), "status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // the process is restarting or gone: no sample
    }
    return 0;
  }

  private long heap(int port) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
      Matcher m = HEAP.matcher(r.body());
      return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
