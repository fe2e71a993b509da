package io.aigc.bench;

import io.aigc.local.ProcessCluster;
import io.aigc.local.WorkShare;
import io.aigc.model.ModelDirectory;
import io.aigc.runtime.ServiceDefaults;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One model's worker pool at 1, 2, 3... worker processes: the same closed-loop load through the whole pipeline at
 * each size, with how the pool shared it: the partitions each worker held (from the group's assignment) and the
 * share of the generated sequences each wrote. Workers are added to the running pipeline, as an operator scales a
 * pool out; each joins the group and the load is measured once every worker holds partitions.
 *
 * <p>On a machine with fewer cores than workers this shows distribution, not speedup: the workers share the same
 * cores with each other and with the broker and the other services.
 */
final class ScaleOut {

  /** One pool size: throughput, and how evenly partitions and work were shared. */
  record Row(int workers, double tokensPerSecond, double requestsPerSecond, int requests,
      Map<String, Integer> partitions, Map<String, Double> share) {
    /** The largest share over the smallest: 1 is perfectly even. */
    double unevenness() {
      double max = share.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
      double min = share.values().stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
      return share.size() < workers ? Double.POSITIVE_INFINITY : max / min;
    }
  }

  private ScaleOut() {}

  static List<Row> measure(Path modelDir, List<Integer> sizes, int concurrency, Duration window, int tokens,
      Path out) throws Exception {
    ModelDirectory dir = ModelDirectory.open(modelDir);
    System.out.printf("%n== %s: one worker pool at %s worker processes, concurrency %d, %d tokens per request%n",
        dir.name(), sizes, concurrency, tokens);
    int partitions = 12; // divisible by 1, 2, 3 and 4 workers, so an even assignment exists
    ProcessCluster.Settings settings = Benchmark.processes(out.resolve("scale-out").resolve("cluster"), dir.path(),
        Map.of(
            "AIGC_SYNC_TIMEOUT", "10m",
            "AIGC_MAX_BATCH", String.valueOf(concurrency),
            "AIGC_WORKER_ID", "worker-1",
            // One inference thread each: the workers share the machine's cores rather than oversubscribe them.
            "AIGC_ORT_THREADS", "1",
            "AIGC_TOPIC_PARTITIONS", String.valueOf(partitions)));
    String group = ServiceDefaults.workerGroup(ServiceDefaults.WORKER_GROUP, dir.name());
    List<Row> rows = new ArrayList<>();
    try (ProcessCluster cluster = ProcessCluster.start(settings)) {
      cluster.awaitReady(Duration.ofMinutes(3));
      HttpClient http = Benchmark.httpClient();
      ClosedLoop.Call call = Benchmark.completionCall(http, settings.httpPort(),
          Benchmark.completionBody(tokens));
      int started = 1;
      for (int size : sizes) {
        while (started < size) {
          started++;
          cluster.startWorker("worker-" + started, Map.of("AIGC_WORKER_ID", "worker-" + started));
          cluster.awaitWorkerReady("worker-" + started, Duration.ofMinutes(2));
        }
        awaitSpread(settings.bootstrapServers(), group, size);
        ClosedLoop.Measurement m = ClosedLoop.run(concurrency, Duration.ofSeconds(5), window, Duration.ofMillis(200),
            call);
        Map<String, Integer> held = new TreeMap<>();
        WorkShare.partitions(settings.bootstrapServers(), group).forEach((w, p) -> held.put(w, p.size()));
        Map<String, Integer> wrote = WorkShare.sequencesByWorker(settings.bootstrapServers(),
            m.done().stream().map(ClosedLoop.Done::id).toList());
        int total = wrote.values().stream().mapToInt(Integer::intValue).sum();
        Map<String, Double> share = new TreeMap<>();
        wrote.forEach((w, n) -> share.put(w, (double) n / Math.max(1, total)));
        Row row = new Row(size, m.tokensPerSecond(), m.requestsPerSecond(), m.done().size(), held, share);
        rows.add(row);
        System.out.printf(Locale.ROOT, "  %d workers: %8.1f tokens/s, partitions %s, share %s%n", size,
            row.tokensPerSecond(), held, percent(share));
      }
    }
    return rows;
  }

  /** Until the group has {@code size} members, each holding partitions (the rebalance after a join is done). */
  private static void awaitSpread(String bootstrap, String group, int size) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      Map<String, List<Integer>> p = WorkShare.partitions(bootstrap, group);
      if (p.size() == size && p.values().stream().noneMatch(List::isEmpty)) {
        return;
      }
      Thread.sleep(500); // polling the group's state in the broker: no event to await
    }
    throw new IllegalStateException("the pool did not spread over " + size + " workers");
  }

  static void print(List<Row> rows) {
    System.out.println("\nworkers | tokens/s | req/s | partitions per worker | share of completions per worker | "
        + "largest/smallest share");
    for (Row r : rows) {
      System.out.printf(Locale.ROOT, "%7d | %8.1f | %5.2f | %-21s | %-31s | %.2f%n", r.workers(), r.tokensPerSecond(),
          r.requestsPerSecond(), r.partitions().values(), percent(r.share()).values(), r.unevenness());
    }
    System.out.printf("(%d cores: the workers share them, so this shows how the pool spreads, not a speedup)%n",
        Runtime.getRuntime().availableProcessors());
  }

  static List<Map<String, Object>> summary(List<Row> rows) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("workers", r.workers());
      m.put("tokens_per_s", Math.round(r.tokensPerSecond() * 10) / 10.0);
      m.put("requests_per_s", Math.round(r.requestsPerSecond() * 100) / 100.0);
      m.put("requests", r.requests());
      m.put("partitions_per_worker", r.partitions());
      m.put("share_of_completions_per_worker", percent(r.share()));
      out.add(m);
    }
    return out;
  }

  private static Map<String, String> percent(Map<String, Double> share) {
    Map<String, String> out = new TreeMap<>();
    share.forEach((w, s) -> out.put(w, String.format(Locale.ROOT, "%.0f%%", 100 * s)));
    return out;
  }
}
