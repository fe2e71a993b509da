package io.aigc.local;

import io.aigc.runtime.Env;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;

/**
 * What {@code deploy/local/run.sh} runs: a supervisor that starts a local Kafka broker and the services, waits
 * until they are ready, says where to send requests, and on Ctrl-C stops the services and then the broker.
 *
 * <pre>
 * run.sh [--model-dir DIR]... [--processes]
 * </pre>
 *
 * Each {@code --model-dir} adds a served model (the first is the default) with an inference worker of its own.
 *
 * Environment: {@link LauncherConfig}, and every service variable, which the services inherit. Unless
 * {@code AIGC_API_KEYS}, {@code AIGC_API_KEYS_FILE} or {@code AIGC_AUTH} says otherwise, the gateway accepts one key,
 * made on first use in {@code .local/api-key}.
 */
public final class LocalProcesses {
  private LocalProcesses() {}

  public static void main(String[] args) throws Exception {
    LauncherConfig config = LauncherConfig.fromEnv(Env.system());
    List<String> given = new ArrayList<>();
    ProcessCluster.Layout layout = ProcessCluster.Layout.ONE_JVM;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--processes" -> layout = ProcessCluster.Layout.PROCESSES;
        case "--model-dir" -> given.add(i + 1 < args.length ? args[++i] : fail("--model-dir needs a folder"));
        default -> fail("unknown argument " + args[i] + " (usage: run.sh [--model-dir DIR]... [--processes])");
      }
    }
    List<Path> modelDirs = config.modelDirs();
    if (!given.isEmpty()) {
      try {
        modelDirs = io.aigc.model.ModelDirectory.list(String.join(",", given));
      } catch (IllegalArgumentException e) {
        fail(e.getMessage().replace("AIGC_MODEL_DIR", "--model-dir"));
      }
    }
    for (Path modelDir : modelDirs) {
      for (String file : List.of("model.onnx", "config.json", "tokenizer.json")) {
        if (!Files.isRegularFile(modelDir.resolve(file))) {
          fail(modelDir + " has no " + file + " (expected the Optimum decoder layout: model.onnx, config.json, "
              + "tokenizer.json)");
        }
      }
    }
    String modelNames = String.join(", ", modelDirs.stream().map(d -> d.getFileName().toString()).toList());
    int kafka = config.kafkaPort();
    int http = config.httpPort();
    int tokenizer = config.tokenizerMetricsPort();
    int worker = config.workerMetricsPort();
    int postprocessor = config.postprocessorMetricsPort();
    List<Integer> busy = new ArrayList<>();
    for (int port : List.of(kafka, kafka + 1, http, tokenizer, worker, postprocessor)) {
      if (!free(port)) {
        busy.add(port);
      }
    }
    if (!busy.isEmpty()) {
      fail("port(s) " + busy + " already in use (is another pipeline running?)");
    }

    Path home = config.home();
    Map<String, String> serviceEnv = new HashMap<>(Map.of("AIGC_MODEL_DIR",
        String.join(",", modelDirs.stream().map(Path::toString).toList())));
    Path keyFile = home.resolve("api-key");
    boolean localKey = config.makeLocalKey();
    if (localKey) {
      // The gateway wants a key or an explicit AIGC_AUTH=none: the embedded default makes itself a key, once.
      serviceEnv.put("AIGC_API_KEYS", "local:" + sha256Hex(localApiKey(keyFile)));
    }
    ProcessCluster.Settings settings = ProcessCluster.Settings
        .defaults(home, System.getProperty("java.class.path"), layout)
        .withPorts(kafka, http, tokenizer, worker, postprocessor)
        .withEnv(serviceEnv);
    System.out.printf("starting Kafka on %s (data in %s) and the services (%s) with models %s...%n",
        settings.bootstrapServers(), home.resolve("kafka"),
        layout == ProcessCluster.Layout.ONE_JVM ? "in one JVM" : "one process each, logs in " + home.resolve("logs"),
        modelNames);
    ProcessCluster cluster = ProcessCluster.start(settings);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("stopping the services, then the broker...");
      cluster.close();
      stopped.countDown();
    }, "local-shutdown"));
    try {
      cluster.awaitReady(Duration.ofMinutes(3));
    } catch (TimeoutException e) {
      System.err.println("not ready: " + e.getMessage() + "; see the log" + (layout == ProcessCluster.Layout.PROCESSES
          ? "s in " + home.resolve("logs") : " above"));
    }
    System.out.print(banner(modelNames, settings.bootstrapServers(), http,
        localKey ? keyFile : null, tokenizer, worker, postprocessor));
    stopped.await();
  }

  /**
   * What the launcher prints once the pipeline is ready: the playground's address first, then a request to try.
   *
   * @param models the served models' names, comma-separated
   * @param keyFile the local API key's file, or null when the gateway's keys are configured otherwise
   */
  static String banner(String models, String bootstrapServers, int http, Path keyFile, int tokenizer, int worker,
      int postprocessor) {
    String auth = keyFile != null ? " -H \"Authorization: Bearer $(cat " + keyFile + ")\"" : "";
    return """

        aigc pipeline ready: models %s (one inference worker each), Kafka %s
          playground: http://127.0.0.1:%d/%s
          curl -s localhost:%d/v1/completions%s \\
            -H 'Content-Type: application/json' \\
            -d '{"prompt": "You may make and give copies", "max_tokens": 32, "temperature": 0}'
          async: POST /v1/jobs (same body), then GET /v1/jobs/{id}; DELETE /v1/jobs/{id} cancels
          health: /healthz /readyz; metrics: gateway :%d, tokenizer-service :%d, inference-worker :%d, postprocessor :%d
        Ctrl-C stops everything.

        """.formatted(models, bootstrapServers, http, keyFile != null ? " (its API key: " + keyFile + ")" : "", http,
        auth, http, tokenizer, worker, postprocessor);
  }

  /** The local API key in {@code file}, made on first use, readable by its owner only. */
  private static String localApiKey(Path file) throws IOException {
    if (Files.isRegularFile(file)) {
      return Files.readString(file).trim();
    }
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String key = "aigc-" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Files.createDirectories(file.getParent());
    Files.writeString(file, key + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return key;
  }

  private static String sha256Hex(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean free(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String fail(String message) {
    System.err.println("run.sh: " + message);
    System.exit(2);
    return message;
  }
}
