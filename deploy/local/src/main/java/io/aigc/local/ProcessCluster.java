package io.aigc.local;

import io.aigc.model.ModelDirectory;
import io.aigc.runtime.ServiceDefaults;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker (KRaft, one node) and the services as OS processes, supervised: a process that dies is
 * restarted, as systemd or Kubernetes would. What {@code deploy/local/run.sh} runs, and what the benchmark and the
 * crash tests run.
 *
 * <p>Two layouts: {@link Layout#ONE_JVM} runs the four services in one JVM next to the broker (the embedded
 * default: light, its log on the console); {@link Layout#PROCESSES} gives each service its own JVM, its own log
 * file under {@code logs/}, and its PID in {@code pids/<service>.pid}, so each can be killed, measured and
 * restarted on its own.
 *
 * <p>Every child runs in its own session ({@code setsid}), so a Ctrl-C at the terminal reaches only the
 * supervisor, which stops the services first and the broker last.
 */
public final class ProcessCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProcessCluster.class);

  /** How the services are laid out in processes. */
  public enum Layout { ONE_JVM, PROCESSES }

  /** The services in start order: downstream first, so nothing publishes into a stage that is not there yet. */
  public static final List<String> SERVICES =
      List.of("postprocessor", "inference-worker", "tokenizer-service", "gateway");
  public static final String BROKER = "broker";
  public static final String PIPELINE = "pipeline";

  private static final Map<String, String> MAIN_CLASSES = Map.of(
      BROKER, "kafka.Kafka",
      PIPELINE, "io.aigc.local.LocalPipeline",
      "gateway", "io.aigc.gateway.GatewayMain",
      "tokenizer-service", "io.aigc.tokenizer.TokenizerMain",
      "inference-worker", "io.aigc.worker.WorkerMain",
      "postprocessor", "io.aigc.postprocessor.PostprocessorMain");

  private final Settings settings;
  private final Map<String, Child> children = new ConcurrentSkipListMap<>();
  /** Start order, for stopping in reverse. */
  private final List<String> order = new CopyOnWriteArrayList<>();
  /** Metrics ports of the workers beyond the first (one per further model, and those {@link #startWorker} adds). */
  private final Map<String, Integer> workerPorts = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private volatile boolean stopping;
  private final Thread orphanGuard;

  /**
   * Where and how to run.
   *
   * @param home data, logs and PID files (run.sh uses {@code .local/})
   * @param classpath the classpath of the broker and the services
   * @param layout one JVM for the services, or one each
   * @param kafkaPort the broker's client port; the controller listens on the next one
   * @param httpPort the gateway's port
   * @param metricsPorts ports of /metrics and /readyz: tokenizer-service, inference-worker, postprocessor
   * @param env the services' environment (model folder, limits, ...), on top of this process's
   * @param serviceJvmOptions JVM options per service ({@code pipeline} in one-JVM layout); missing ones get defaults
   * @param restart whether a process that dies is started again
   * @param serviceClasspaths a service's own classpath where it differs from {@code classpath} (a test starts each on
   *     what its image holds)
   */
  public record Settings(Path home, String classpath, Layout layout, int kafkaPort, int httpPort,
      Map<String, Integer> metricsPorts, Map<String, String> env, Map<String, List<String>> serviceJvmOptions,
      boolean restart, Map<String, String> serviceClasspaths) {

    public Settings {
      metricsPorts = Map.copyOf(metricsPorts);
      env = Map.copyOf(env);
      serviceJvmOptions = Map.copyOf(serviceJvmOptions);
      serviceClasspaths = Map.copyOf(serviceClasspaths);
    }

    public static Settings defaults(Path home, String classpath, Layout layout) {
      return new Settings(home, classpath, layout, LauncherConfig.DEFAULT_KAFKA_PORT, ServiceDefaults.GATEWAY_HTTP_PORT,
          Map.of("tokenizer-service", ServiceDefaults.TOKENIZER_METRICS_PORT,
              "inference-worker", ServiceDefaults.WORKER_METRICS_PORT,
              "postprocessor", ServiceDefaults.POSTPROCESSOR_METRICS_PORT), Map.of(), Map.of(), true, Map.of());
    }

    public Settings withPorts(int kafka, int http, int tokenizer, int worker, int postprocessor) {
      return new Settings(home, classpath, layout, kafka, http,
          Map.of("tokenizer-service", tokenizer, "inference-worker", worker, "postprocessor", postprocessor), env,
          serviceJvmOptions, restart, serviceClasspaths);
    }

    /**
     * The same settings on ports nothing listens on (the broker's two consecutive ones included), so a test or the
     * benchmark can run next to whatever else runs on this machine.
     */
    public Settings withFreePorts() throws IOException {
      int kafka;
      do {
        kafka = anyFreePort();
      } while (kafka >= 65_534 || !bindable(kafka + 1));
      List<ServerSocket> held = new ArrayList<>();
      try {
        int[] others = new int[4];
        for (int i = 0; i < others.length; i++) {
          ServerSocket socket = new ServerSocket(0);
          held.add(socket);
          others[i] = socket.getLocalPort();
        }
        return withPorts(kafka, others[0], others[1], others[2], others[3]);
      } finally {
        for (ServerSocket socket : held) {
          socket.close();
        }
      }
    }

    private static int anyFreePort() throws IOException {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      }
    }

    private static boolean bindable(int port) {
      try (ServerSocket socket = new ServerSocket(port)) {
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    public Settings withEnv(Map<String, String> more) {
      Map<String, String> merged = new HashMap<>(env);
      merged.putAll(more);
      return new Settings(home, classpath, layout, kafkaPort, httpPort, metricsPorts, merged, serviceJvmOptions,
          restart, serviceClasspaths);
    }

    public Settings withJvmOptions(String service, List<String> options) {
      Map<String, List<String>> merged = new HashMap<>(serviceJvmOptions);
      merged.put(service, List.copyOf(options));
      return new Settings(home, classpath, layout, kafkaPort, httpPort, metricsPorts, env, merged, restart,
          serviceClasspaths);
    }

    public Settings withRestart(boolean on) {
      return new Settings(home, classpath, layout, kafkaPort, httpPort, metricsPorts, env, serviceJvmOptions, on,
          serviceClasspaths);
    }

    /** {@code service} (and the workers added to it) on a classpath of its own. */
    public Settings withClasspath(String service, String serviceClasspath) {
      Map<String, String> merged = new HashMap<>(serviceClasspaths);
      merged.put(service, serviceClasspath);
      return new Settings(home, classpath, layout, kafkaPort, httpPort, metricsPorts, env, serviceJvmOptions, restart,
          merged);
    }

    /** The classpath {@code name} (the broker, the pipeline or a service) runs on. */
    String classpathOf(String name) {
      return serviceClasspaths.getOrDefault(name, classpath);
    }

    public String bootstrapServers() {
      return "127.0.0.1:" + kafkaPort;
    }
  }

  /** One supervised process. */
  private final class Child {
    final String name;
    final List<String> command;
    final Map<String, String> env;
    final boolean inheritOutput;
    volatile Process process;
    volatile int restarts;
    volatile long startedAt;

    Child(String name, List<String> command, Map<String, String> env, boolean inheritOutput) {
      this.name = name;
      this.command = command;
      this.env = env;
      this.inheritOutput = inheritOutput;
    }

    synchronized void start() throws IOException {
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(env);
      if (inheritOutput) {
        builder.inheritIO();
      } else {
        builder.redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(
                settings.home().resolve("logs/" + name + ".log").toFile()));
      }
      process = builder.start();
      startedAt = System.nanoTime();
      Files.writeString(settings.home().resolve("pids/" + name + ".pid"), process.pid() + "\n");
      Process started = process;
      started.onExit().thenAccept(p -> exited(this, p));
    }
  }

  private ProcessCluster(Settings settings) {
    this.settings = settings;
    // Whoever started the cluster may be stopped without closing it (Ctrl-C, a build tool's timeout): the broker and
    // services must not outlive it, holding their ports and CPUs.
    this.orphanGuard = new Thread(this::close, "process-cluster-shutdown");
    Runtime.getRuntime().addShutdownHook(orphanGuard);
  }

  /** Formats the broker's storage when new, starts the broker and the services, and returns without waiting. */
  public static ProcessCluster start(Settings settings) throws IOException, InterruptedException {
    ProcessCluster cluster = new ProcessCluster(settings);
    try {
      cluster.startAll();
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  private void startAll() throws IOException, InterruptedException {
    Path home = settings.home();
    for (String dir : List.of("kafka", "logs", "pids", "streams")) {
      Files.createDirectories(home.resolve(dir));
    }
    Path properties = home.resolve("broker.properties");
    Files.writeString(properties, resource("broker.properties")
        .replace("@PORT@", String.valueOf(settings.kafkaPort()))
        .replace("@CONTROLLER_PORT@", String.valueOf(settings.kafkaPort() + 1))
        .replace("@DATA_DIR@", home.resolve("kafka").toAbsolutePath().toString()));
    Path brokerLog4j = home.resolve("broker-log4j2.xml");
    Files.writeString(brokerLog4j, resource("broker-log4j2.xml"));
    List<String> brokerJava = List.of("-Xmx512m", "-Dlog4j2.configurationFile=" + brokerLog4j.toAbsolutePath(),
        "-Daigc.broker.log=" + home.resolve("logs/broker.log").toAbsolutePath());
    if (!Files.exists(home.resolve("kafka/meta.properties"))) {
      String clusterId = runToEnd(java(BROKER, brokerJava, "kafka.tools.StorageTool", "random-uuid")).trim();
      runToEnd(java(BROKER, brokerJava, "kafka.tools.StorageTool", "format", "--standalone", "-t", clusterId, "-c",
          properties.toAbsolutePath().toString()));
    }
    add(BROKER, java(BROKER, brokerJava, MAIN_CLASSES.get(BROKER), properties.toAbsolutePath().toString()),
        Map.of(), false);
    awaitBroker(Duration.ofSeconds(60));

    if (settings.layout() == Layout.ONE_JVM) {
      Map<String, String> env = serviceEnv(null);
      env.put("AIGC_TOKENIZER_METRICS_PORT", String.valueOf(settings.metricsPorts().get("tokenizer-service")));
      env.put("AIGC_WORKER_METRICS_PORT", String.valueOf(settings.metricsPorts().get("inference-worker")));
      env.put("AIGC_POSTPROCESSOR_METRICS_PORT", String.valueOf(settings.metricsPorts().get("postprocessor")));
      add(PIPELINE, java(PIPELINE, jvmOptions(PIPELINE), MAIN_CLASSES.get(PIPELINE)), env, true);
    } else {
      List<String> models = modelDirs();
      for (String service : SERVICES) {
        if (service.equals("inference-worker") && models.size() > 1) {
          // A worker serves one model: one pool per model, the first on the configured port.
          for (int i = 0; i < models.size(); i++) {
            Map<String, String> env = serviceEnv(service);
            env.put("AIGC_MODEL_DIR", models.get(i));
            String name = i == 0 ? service : service + "-" + ModelDirectory.nameOf(Path.of(models.get(i)));
            if (i > 0) {
              int port = freePort();
              env.put("AIGC_METRICS_PORT", String.valueOf(port));
              workerPorts.put(name, port);
            }
            add(name, java(service, jvmOptions(service), MAIN_CLASSES.get(service)), env, false);
          }
          continue;
        }
        add(service, java(service, jvmOptions(service), MAIN_CLASSES.get(service)), serviceEnv(service), false);
      }
    }
  }

  /** The services' model folders ({@code AIGC_MODEL_DIR}, comma-separated), as given. */
  private List<String> modelDirs() {
    String dirs = settings.env().getOrDefault("AIGC_MODEL_DIR", System.getenv().getOrDefault("AIGC_MODEL_DIR", ""));
    return dirs.isBlank() ? List.of() : List.of(dirs.split(","));
  }

  /**
   * Starts one more inference worker ({@link Layout#PROCESSES}), supervised like the others, with the services'
   * environment plus {@code env} (its model, its {@code AIGC_WORKER_ID}...) and a free metrics port. A worker joins
   * its model's pool: the group rebalances and gives it partitions.
   */
  public void startWorker(String name, Map<String, String> env) throws IOException {
    if (children.containsKey(name)) {
      throw new IllegalArgumentException(name + " runs already");
    }
    Map<String, String> all = serviceEnv("inference-worker");
    all.putAll(env);
    int port = freePort();
    all.put("AIGC_METRICS_PORT", String.valueOf(port));
    workerPorts.put(name, port);
    add(name, java("inference-worker", jvmOptions("inference-worker"), MAIN_CLASSES.get("inference-worker")), all,
        false);
  }

  /** Waits until {@code name}'s process has exited (it is not restarted then if restarts are off). */
  public boolean awaitExit(String name, Duration timeout) throws InterruptedException {
    Child child = children.get(name);
    return child == null || child.process == null || child.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The exit code of a process that has exited, or empty while it runs. */
  public OptionalInt exitCode(String name) {
    Child child = children.get(name);
    return child == null || child.process == null || child.process.isAlive() ? OptionalInt.empty()
        : OptionalInt.of(child.process.exitValue());
  }

  /** Waits until the worker {@code name} answers /readyz with 200 (it has joined its group). */
  public void awaitWorkerReady(String name, Duration timeout) throws InterruptedException, TimeoutException {
    int port = workerPorts.getOrDefault(name, settings.metricsPorts().get("inference-worker"));
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ready(port)) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(name + " not ready after " + timeout);
      }
      Thread.sleep(200); // polling another process's probe: there is no event to await
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private void add(String name, List<String> command, Map<String, String> env, boolean inheritOutput)
      throws IOException {
    Child child = new Child(name, command, env, inheritOutput);
    children.put(name, child);
    order.add(name);
    child.start();
  }

  private Map<String, String> serviceEnv(String service) {
    Map<String, String> env = new HashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", settings.bootstrapServers());
    env.put("AIGC_HTTP_PORT", String.valueOf(settings.httpPort()));
    env.put("DJL_OFFLINE", "true");
    env.put("AIGC_STATE_DIR", settings.home().resolve("streams").toAbsolutePath().toString());
    env.put("AIGC_DATA_DIR", settings.home().resolve("gateway").toAbsolutePath().toString());
    env.putAll(settings.env());
    if (service != null && settings.metricsPorts().containsKey(service)) {
      env.put("AIGC_METRICS_PORT", String.valueOf(settings.metricsPorts().get(service)));
    }
    Map<String, Integer> ports = settings.metricsPorts();
    if ("gateway".equals(service) && System.getenv(LocalPipeline.PIPELINE_METRICS_URLS) == null
        && !env.containsKey(LocalPipeline.PIPELINE_METRICS_URLS) && !ports.containsValue(0)) {
      // Its own process: the gateway is told where the others' metrics are (in one JVM, LocalPipeline does it).
      // Workers of further models started before the gateway (SERVICES' order), so their ports are known.
      env.put(LocalPipeline.PIPELINE_METRICS_URLS, LocalPipeline.metricsUrls(IntStream.concat(
          IntStream.of(ports.get("tokenizer-service"), ports.get("inference-worker"),
              ports.get("postprocessor")), workerPorts.values().stream().mapToInt(Integer::intValue))));
    }
    return env;
  }

  private List<String> jvmOptions(String service) {
    List<String> defaults = switch (service) {
      // The worker's KV cache is direct memory: room for the default 1 GiB budget, twice, during a step.
      case "inference-worker", PIPELINE -> List.of("-Xmx768m", "-XX:MaxDirectMemorySize=3g");
      default -> List.of("-Xmx384m");
    };
    return settings.serviceJvmOptions().getOrDefault(service, defaults);
  }

  private List<String> java(String name, List<String> jvmOptions, String mainClass, String... args) {
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      command.add("/usr/bin/setsid");
    }
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(settings.classpathOf(name));
    command.add(mainClass);
    command.addAll(List.of(args));
    return command;
  }

  private void exited(Child child, Process process) {
    if (stopping || child.process != process) {
      return;
    }
    if (!settings.restart()) {
      log.warn("{} exited with code {}", child.name, process.exitValue());
      return;
    }
    // Back off when a process dies young, so a broken configuration does not become a tight crash loop.
    long livedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - child.startedAt);
    child.restarts = livedMs > 60_000 ? 1 : child.restarts + 1;
    long delayMs = Math.min(30_000, 500L << Math.min(6, child.restarts - 1));
    log.warn("{} exited with code {}; restarting it in {} ms", child.name, process.exitValue(), delayMs);
    CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS).execute(() -> {
      try {
        if (!stopping && child.process == process) {
          child.start();
        }
      } catch (IOException e) {
        log.error("cannot restart {}", child.name, e);
      }
    });
  }

  /**
   * Waits until the broker and every service answer /readyz with 200. Without restarts, a process that exits first
   * fails the wait at once: it will not become ready.
   */
  public void awaitReady(Duration timeout) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Integer> ports = new ArrayList<>(settings.metricsPorts().values());
    ports.addAll(workerPorts.values());
    ports.add(settings.httpPort());
    for (int port : ports) {
      while (!ready(port)) {
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("port " + port + " not ready after " + timeout);
        }
        if (!settings.restart()) {
          for (Child child : children.values()) {
            Process process = child.process;
            if (process != null && !process.isAlive()) {
              throw new IllegalStateException(child.name + " exited with code " + process.exitValue()
                  + " before it was ready" + (child.inheritOutput ? "" : "; see logs/" + child.name + ".log"));
            }
          }
        }
        Thread.sleep(200); // polling another process's probe: there is no event to await
      }
    }
  }

  private boolean ready(int port) {
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
          .timeout(Duration.ofSeconds(2)).build();
      return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public Settings settings() {
    return settings;
  }

  /** The current PID of a process ({@link #BROKER}, a service, or {@link #PIPELINE}), if it runs. */
  public OptionalLong pid(String name) {
    Child child = children.get(name);
    return child == null || child.process == null || !child.process.isAlive() ? OptionalLong.empty()
        : OptionalLong.of(child.process.pid());
  }

  /** Kills a process, like {@code kill -9} with {@code force}, else {@code kill -TERM}; the supervisor restarts it. */
  public void kill(String name, boolean force) {
    Child child = children.get(name);
    if (child != null && child.process != null) {
      if (force) {
        child.process.destroyForcibly();
      } else {
        child.process.destroy();
      }
    }
  }

  /** How many times the supervisor has restarted a process since it last ran a minute. */
  public int restarts(String name) {
    Child child = children.get(name);
    return child == null ? 0 : child.restarts;
  }

  /**
   * Stops the services (gateway first), then the broker, each with SIGTERM and a bounded wait. Also runs when the JVM
   * shuts down; a second call waits for the first.
   */
  @Override
  public synchronized void close() {
    if (stopping) {
      return;
    }
    stopping = true;
    if (Thread.currentThread() != orphanGuard) {
      try {
        Runtime.getRuntime().removeShutdownHook(orphanGuard);
      } catch (IllegalStateException e) {
        // the JVM is shutting down already: the hook is running or about to, and finds nothing left to do
      }
    }
    List<String> order = new ArrayList<>(this.order);
    order.remove(BROKER);
    Collections.reverse(order);
    order.add(BROKER);
    for (String name : order) {
      Process p = children.get(name).process;
      if (p != null && p.isAlive()) {
        p.destroy();
        try {
          if (!p.waitFor(30, TimeUnit.SECONDS)) {
            log.warn("{} did not stop within 30 s; killing it", name);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          p.destroyForcibly();
        }
      }
    }
  }

  private static final Map<String, String> RESOURCES = new ConcurrentHashMap<>();

  private static String resource(String name) {
    return RESOURCES.computeIfAbsent(name, n -> {
      try (InputStream in = ProcessCluster.class.getResourceAsStream(n)) {
        if (in == null) {
          throw new IllegalStateException("missing resource " + n);
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private String runToEnd(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command.subList(command.size() - 3, command.size())) + " failed: " + out);
    }
    // Kafka's tools may print log lines before their answer: the answer is the last line.
    String[] lines = out.strip().split("\n");
    return lines[lines.length - 1];
  }

  private void awaitBroker(Duration timeout) throws InterruptedException, IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!children.get(BROKER).process.isAlive()) {
        throw new IOException("the broker exited; see " + settings.home().resolve("logs/broker.log"));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", settings.kafkaPort()), 500);
        return;
      } catch (IOException e) {
        Thread.sleep(200); // waiting for another process to listen: nothing to await but the port
      }
    }
    throw new IOException("the broker does not listen on port " + settings.kafkaPort() + " after " + timeout);
  }
}
