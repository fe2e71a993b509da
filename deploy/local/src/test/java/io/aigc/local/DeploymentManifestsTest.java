package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.aigc.gateway.GatewayConfig;
import io.aigc.postprocessor.PostprocessorConfig;
import io.aigc.runtime.Env;
import io.aigc.runtime.HealthServer;
import io.aigc.runtime.HealthSettings;
import io.aigc.runtime.ServiceDefaults;
import io.aigc.schemas.Topic;
import io.aigc.schemas.Topics;
import io.aigc.tokenizer.TokenizerConfig;
import io.aigc.worker.WorkerConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.assertj.core.api.SoftAssertions;
import org.assertj.core.api.junit.jupiter.InjectSoftAssertions;
import org.assertj.core.api.junit.jupiter.SoftAssertionsExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What can be checked of {@code deploy/k8s} and {@code deploy/compose} without a cluster or a container engine: each
 * kustomize overlay renders ({@code kubectl kustomize}, offline), and what the rendered manifests and the compose file
 * say agrees with the services: every variable set is one the service reads (its README table, which
 * {@link ConfigurationDocumentedTest} keeps equal to the code) and parses; probes name paths and ports the services
 * serve; the topics and consumer groups are the ones the services use; the scalers stay within the partitions; the
 * grace periods outlast the shutdowns; the images are the ones the Dockerfiles build.
 */
@ExtendWith(SoftAssertionsExtension.class)
class DeploymentManifestsTest {
  static final Path ROOT = Commands.ROOT;
  static final String KUBECTL_INSTALL = "apt-get install -y kubectl";
  static final YAMLMapper YAML = new YAMLMapper();
  static final Map<String, List<JsonNode>> RENDERED = new ConcurrentHashMap<>();
  static final String GATEWAY = "gateway";
  static final String TOKENIZER = "tokenizer-service";
  static final String WORKER = "inference-worker";
  static final String POSTPROCESSOR = "postprocessor";
  /** Read by the {@code java} launcher, not by a service's configuration. */
  static final Set<String> JVM_VARIABLES = Set.of("JDK_JAVA_OPTIONS");
  /** How long Kafka Streams is given to close (StreamsService#close). */
  static final Duration STREAMS_CLOSE = Duration.ofSeconds(30);
  /** After its drain the worker commits and closes its consumer and two producers, up to 5 s each (WorkerService). */
  static final Duration WORKER_CLOSE_AFTER_DRAIN = Duration.ofSeconds(20);
  /** Every check of a test is reported, not only the first that fails; asserted after each test. */
  @InjectSoftAssertions
  SoftAssertions softly;

  /** The topic a model's workers read, as the services name it. */
  static String tokenizedTopic(String model) {
    return Topics.defaults().tokenized(model).name();
  }

  /** The consumer group of a model's worker pool, as the worker names it. */
  static String workerGroup(String model) {
    return ServiceDefaults.workerGroup(ServiceDefaults.WORKER_GROUP, model);
  }

  /** One container of a rendered Deployment (or a compose service), with the service its image runs. */
  record Container(String owner, String service, JsonNode pod, JsonNode spec, Map<String, String> env) {
    String var(String name) {
      return env.get(name);
    }

    /** The model folders' names in AIGC_MODEL_DIR (a comma-separated list where a service serves several). */
    List<String> models() {
      String dirs = env.getOrDefault("AIGC_MODEL_DIR", "");
      return dirs.isBlank() ? List.of()
          : List.of(dirs.split(",")).stream().map(d -> Path.of(d.strip()).getFileName().toString()).toList();
    }

    /** The port a service serves its probes and metrics on: what its environment says, else its default. */
    int port() {
      return service.equals(GATEWAY) ? integer("AIGC_HTTP_PORT", ServiceDefaults.GATEWAY_HTTP_PORT)
          : integer("AIGC_METRICS_PORT", switch (service) {
            case TOKENIZER -> ServiceDefaults.TOKENIZER_METRICS_PORT;
            case WORKER -> ServiceDefaults.WORKER_METRICS_PORT;
            default -> ServiceDefaults.POSTPROCESSOR_METRICS_PORT;
          });
    }

    int integer(String name, int defaultValue) {
      return env.containsKey(name) ? Integer.parseInt(env.get(name)) : defaultValue;
    }

    Duration drainTimeout() {
      return ((WorkerConfig) readConfig(this)).drainTimeout();
    }
  }

  // ---- Kubernetes ----

  @ParameterizedTest(name = "{0}: a Deployment per service, each with a disruption budget that allows an eviction")
  @ValueSource(strings = {"cpu", "gpu"})
  void everyServiceRunsAsADeploymentWithADisruptionBudget(String overlay) {
    List<JsonNode> all = render(overlay);
    softly.assertThat(containers(all).stream().map(Container::service).collect(Collectors.toSet()))
        .as("the services the Deployments run").containsExactlyInAnyOrderElementsOf(ProcessCluster.SERVICES);
    for (JsonNode deployment : workloads(all)) {
      String name = name(deployment);
      // An applied replica count would fight the autoscaler on every apply.
      softly.assertThat(autoscaled(all, deployment) && deployment.at("/spec/replicas").isInt())
          .as("Deployment %s sets replicas though an autoscaler owns them", name).isFalse();
      JsonNode selector = deployment.at("/spec/selector/matchLabels");
      List<JsonNode> budgets = ofKind(all, "PodDisruptionBudget").stream()
          .filter(pdb -> pdb.at("/spec/selector/matchLabels").equals(selector)).toList();
      softly.assertThat(budgets).as("PodDisruptionBudgets with the selector of Deployment %s", name).hasSize(1);
      for (JsonNode pdb : budgets) {
        int fewest = fewestReplicas(all, deployment);
        boolean evictable = pdb.at("/spec/maxUnavailable").asInt(0) >= 1
            || pdb.at("/spec/minAvailable").isInt() && pdb.at("/spec/minAvailable").asInt() < fewest;
        softly.assertThat(evictable).as("PodDisruptionBudget %s lets a node drain with %s replicas of %s",
            name(pdb), fewest, name).isTrue();
      }
    }
  }

  @ParameterizedTest(name = "{0}: every variable set is one its service reads, and its configuration accepts it")
  @ValueSource(strings = {"cpu", "gpu"})
  void everyVariableSetIsOneTheServiceReads(String overlay) {
    for (Container c : containers(render(overlay))) {
      softly.assertThat(unread(c.service(), c.env().keySet()))
          .as("variables Deployment %s sets that %s does not read", c.owner(), c.service()).isEmpty();
      softly.assertThatCode(() -> readConfig(c)).as("%s's configuration from Deployment %s's environment",
          c.service(), c.owner()).doesNotThrowAnyException();
      Set<String> mounted = StreamSupport.stream(c.spec().path("volumeMounts").spliterator(), false)
          .map(m -> m.path("mountPath").asText()).collect(Collectors.toSet());
      c.env().forEach((name, value) -> {
        for (String part : value.split(",")) {
          if (part.startsWith("/")) {
            softly.assertThat(mounted).as("%s=%s in Deployment %s: a volume holds it (the root filesystem is "
                + "read-only)", name, part, c.owner()).anyMatch(m -> Path.of(part).startsWith(m));
          }
        }
      });
    }
  }

  @ParameterizedTest(name = "{0}: probes and scrapes ask for paths the services serve, on the ports they serve them")
  @ValueSource(strings = {"cpu", "gpu"})
  void probesUsePathsAndPortsTheServicesServe(String overlay) throws IOException {
    List<JsonNode> all = render(overlay);
    for (Container c : containers(all)) {
      Map<String, String> probes = Map.of("startupProbe", "/healthz", "livenessProbe", "/healthz",
          "readinessProbe", "/readyz");
      probes.forEach((probe, path) -> {
        JsonNode get = c.spec().path(probe).path("httpGet");
        softly.assertThat(get.path("path").asText()).as("%s of Deployment %s", probe, c.owner()).isEqualTo(path);
        softly.assertThat(containerPort(c.spec(), get.path("port")))
            .as("%s's port of Deployment %s: where %s serves it", probe, c.owner(), c.service()).isEqualTo(c.port());
      });
      JsonNode annotations = c.pod().at("/metadata/annotations");
      softly.assertThat(annotations.path("prometheus.io/port").asText())
          .as("the scrape port of Deployment %s", c.owner()).isEqualTo(String.valueOf(c.port()));
      softly.assertThat(annotations.path("prometheus.io/path").asText()).isEqualTo("/metrics");
    }
    for (String path : List.of("/healthz", "/readyz", "/metrics")) {
      softly.assertThat(gatewayGetRoutes()).as("the gateway's routes").contains(path);
      softly.assertThat(healthServerAnswers(path)).as("the health server's answer to GET %s", path).isEqualTo(200);
    }
    for (JsonNode service : ofKind(all, "Service")) {
      Container target = containers(all).stream()
          .filter(c -> matches(service.at("/spec/selector"), c.pod().at("/metadata/labels"))).findFirst().orElseThrow();
      for (JsonNode port : service.at("/spec/ports")) {
        softly.assertThat(containerPort(target.spec(), port.path("targetPort"))).as("Service %s's targetPort",
            name(service)).isEqualTo(target.port());
      }
    }
  }

  @ParameterizedTest(name = "{0}: a Strimzi KafkaTopic for every topic the services use, with retention and min ISR")
  @ValueSource(strings = {"cpu", "gpu"})
  void everyTopicTheServicesUseIsAStrimziTopic(String overlay) {
    List<JsonNode> all = render(overlay);
    List<Container> containers = containers(all);
    Topics topics = Topics.defaults();
    Set<String> expected = topics.all(List.of()).stream().map(Topic::name).collect(Collectors.toCollection(TreeSet::new));
    workers(containers).forEach(w -> expected.addAll(w.models().stream().map(m -> tokenizedTopic(m)).toList()));

    softly.assertThat(kafkaTopics(all).keySet()).as("the KafkaTopics' names").containsExactlyInAnyOrderElementsOf(expected);
    kafkaTopics(all).forEach((name, topic) -> {
      softly.assertThat(topic.path("apiVersion").asText()).as("%s's apiVersion", name).isEqualTo("kafka.strimzi.io/v1");
      softly.assertThat(topic.at("/metadata/labels/strimzi.io~1cluster").asText()).as("%s's cluster", name).isNotBlank();
      int replicas = topic.at("/spec/replicas").asInt();
      softly.assertThat(topic.at("/spec/partitions").asInt()).as("%s's partitions", name).isPositive();
      softly.assertThat(topic.at("/spec/config/retention.ms").asText()).as("%s's retention.ms", name).isNotBlank();
      // acks=all with one broker down still writes: fewer in-sync replicas required than there are replicas.
      softly.assertThat(topic.at("/spec/config/min.insync.replicas").asInt())
          .as("%s's min.insync.replicas (of %s replicas)", name, replicas).isBetween(2, replicas - 1);
    });
    // What the services read back must still be there.
    for (Container gateway : gateways(containers)) {
      softly.assertThat(retention(all, topics.completions().name())).as("the completions' retention, which "
          + "%s reads back for AIGC_JOB_RETENTION", gateway.owner())
          .isGreaterThanOrEqualTo(((GatewayConfig) readConfig(gateway)).jobRetention());
    }
    for (Container worker : workers(containers)) {
      softly.assertThat(retention(all, topics.cancellations().name())).as("the cancellations' retention, which "
          + "Deployment %s reads back for AIGC_CANCELLATION_LOOKBACK", worker.owner())
          .isGreaterThanOrEqualTo(((WorkerConfig) readConfig(worker)).cancellationLookback());
    }
    for (Container c : containers) {
      softly.assertThat(c.var("AIGC_CREATE_TOPICS")).as("AIGC_CREATE_TOPICS in Deployment %s: the KafkaTopics are "
          + "the topics' one source of truth", c.owner()).isEqualTo("false");
    }
    // A Streams stage shares its input's partitions: more instances than partitions would idle.
    Map<String, String> inputs = Map.of(TOKENIZER, topics.requests().name(), POSTPROCESSOR, topics.generated().name());
    inputs.forEach((service, topic) -> softly.assertThat(deployment(all, only(containers, service).owner())
        .at("/spec/replicas").asInt()).as("%s's replicas", service).isBetween(1, partitions(all, topic)));
  }

  @ParameterizedTest(name = "{0}: each model's worker pool scales on its own group's lag, within its partitions")
  @ValueSource(strings = {"cpu", "gpu"})
  void eachWorkerPoolScalesOnItsConsumerGroupsLag(String overlay) {
    List<JsonNode> all = render(overlay);
    List<Container> containers = containers(all);
    String readme = readmeSection("Deploy on Kubernetes");
    Set<String> served = new TreeSet<>();
    for (Container worker : workers(containers)) {
      softly.assertThat(worker.models()).as("Deployment %s's AIGC_MODEL_DIR: one model per worker", worker.owner())
          .hasSize(1);
      String model = worker.models().get(0);
      served.add(model);
      List<JsonNode> scalers = ofKind(all, "ScaledObject").stream()
          .filter(s -> s.at("/spec/scaleTargetRef/name").asText().equals(worker.owner())).toList();
      softly.assertThat(scalers).as("ScaledObjects of Deployment %s", worker.owner()).hasSize(1);
      for (JsonNode scaler : scalers) {
        JsonNode trigger = scaler.at("/spec/triggers/0");
        JsonNode meta = trigger.path("metadata");
        String topic = meta.path("topic").asText();
        softly.assertThat(trigger.path("type").asText()).isEqualTo("kafka");
        softly.assertThat(topic).as("the topic %s's workers read", model).isEqualTo(tokenizedTopic(model));
        softly.assertThat(meta.path("consumerGroup").asText()).as("the group %s's workers share", model)
            .isEqualTo(workerGroup(model));
        softly.assertThat(meta.path("bootstrapServers").asText()).isEqualTo(worker.var("KAFKA_BOOTSTRAP_SERVERS"));
        softly.assertThat(scaler.at("/spec/maxReplicaCount").asInt()).as("ScaledObject %s's maxReplicaCount: "
            + "at most the partitions of %s", name(scaler), topic).isBetween(1, partitions(all, topic));
        // Scale out before a worker holds so much that it stops fetching (its batch and its waiting queue).
        WorkerConfig config = (WorkerConfig) readConfig(worker);
        int lagThreshold = Integer.parseInt(meta.path("lagThreshold").asText());
        softly.assertThat(lagThreshold).as("ScaledObject %s's lagThreshold", name(scaler))
            .isBetween(1, config.engine().maxBatchRows() + config.maxWaiting());
        softly.assertThat(readme).as("the README's arithmetic for lagThreshold").contains("= " + lagThreshold);
      }
    }
    for (Container c : containers) {
      if (!c.service().equals(WORKER)) {
        softly.assertThat(c.models()).as("the models %s serves: those with a worker pool", c.owner())
            .containsExactlyInAnyOrderElementsOf(served);
      }
    }
  }

  @ParameterizedTest(name = "{0}: the gateway's HPA scales on CPU, no further than the stream topic's partitions")
  @ValueSource(strings = {"cpu", "gpu"})
  void theGatewayScalesOnCpuWithinTheStreamTopicsPartitions(String overlay) {
    List<JsonNode> all = render(overlay);
    List<JsonNode> hpas = ofKind(all, "HorizontalPodAutoscaler");
    assertThat(hpas).hasSize(1);
    JsonNode hpa = hpas.get(0);
    assertThat(hpa.at("/spec/scaleTargetRef/name").asText()).isEqualTo(interactiveGateway(all).owner());
    assertThat(hpa.at("/spec/metrics/0/resource/name").asText()).isEqualTo("cpu");
    assertThat(hpa.at("/spec/minReplicas").asInt()).as("the gateway's minReplicas: one can restart").isGreaterThan(1);
    // Each gateway reads one partition of the stream topic; more gateways than partitions would share every one.
    assertThat(hpa.at("/spec/maxReplicas").asInt())
        .isLessThanOrEqualTo(partitions(all, Topics.defaults().stream().name()));
  }

  @ParameterizedTest(name = "{0}: one gateway holds the Batch API on a volume; the scaled-out ones forward to it")
  @ValueSource(strings = {"cpu", "gpu"})
  void oneGatewayHoldsTheBatchApiOnAVolumeAndTheOthersForwardToIt(String overlay) {
    List<JsonNode> all = render(overlay);
    List<Container> holders = gateways(containers(all)).stream()
        .filter(c -> !((GatewayConfig) readConfig(c)).batches().forwards()).toList();
    assertThat(holders).as("gateways that hold files and batches").hasSize(1);
    Container holder = holders.get(0);
    JsonNode statefulSet = ofKind(all, "StatefulSet").stream().filter(s -> name(s).equals(holder.owner()))
        .findFirst().orElseThrow(() -> new AssertionError(holder.owner() + " is not a StatefulSet"));
    // Two would each run the other's batches; a Deployment's rolling update would start one before the old one ends.
    softly.assertThat(statefulSet.at("/spec/replicas").asInt()).as("%s's replicas", holder.owner()).isEqualTo(1);
    softly.assertThat(autoscaled(all, statefulSet)).as("%s autoscaled", holder.owner()).isFalse();
    Path dataDir = ((GatewayConfig) readConfig(holder)).batches().dataDir();
    Set<String> claimed = StreamSupport.stream(statefulSet.at("/spec/volumeClaimTemplates").spliterator(), false)
        .map(t -> t.at("/metadata/name").asText()).collect(Collectors.toSet());
    softly.assertThat(holder.spec().path("volumeMounts")).as("%s's AIGC_DATA_DIR %s: on a volume it claims",
        holder.owner(), dataDir).anyMatch(m -> claimed.contains(m.path("name").asText())
            && dataDir.startsWith(m.path("mountPath").asText()));

    Container interactive = interactiveGateway(all);
    URI forwardedTo = ((GatewayConfig) readConfig(interactive)).batches().gateway();
    softly.assertThat(forwardedTo).as("AIGC_BATCH_GATEWAY_URL of %s", interactive.owner()).isNotNull();
    if (forwardedTo != null) {
      JsonNode service = ofKind(all, "Service").stream().filter(s -> name(s).equals(forwardedTo.getHost()))
          .findFirst().orElseThrow(() -> new AssertionError("no Service " + forwardedTo.getHost()));
      softly.assertThat(service.at("/spec/selector")).as("the pods Service %s selects", name(service))
          .isEqualTo(statefulSet.at("/spec/template/metadata/labels"));
      int port = forwardedTo.getPort() > 0 ? forwardedTo.getPort() : 80;
      JsonNode servicePort = StreamSupport.stream(service.at("/spec/ports").spliterator(), false)
          .filter(p -> p.path("port").asInt() == port).findFirst()
          .orElseThrow(() -> new AssertionError("Service " + name(service) + " has no port " + port));
      softly.assertThat(containerPort(holder.spec(), servicePort.path("targetPort")))
          .as("the port Service %s forwards to", name(service)).isEqualTo(holder.port());
    }
  }

  @ParameterizedTest(name = "{0}: each pod's grace period outlasts its service's shutdown")
  @ValueSource(strings = {"cpu", "gpu"})
  void gracePeriodsOutlastTheShutdowns(String overlay) {
    List<JsonNode> all = render(overlay);
    for (Container c : containers(all)) {
      Duration grace = Duration.ofSeconds(c.pod().at("/spec/terminationGracePeriodSeconds").asLong());
      Duration shutdown = switch (c.service()) {
        case WORKER -> c.drainTimeout().plus(WORKER_CLOSE_AFTER_DRAIN);
        case GATEWAY -> Duration.ofSeconds(c.spec().at("/lifecycle/preStop/sleep/seconds").asLong() + 10);
        default -> STREAMS_CLOSE;
      };
      softly.assertThat(grace).as("terminationGracePeriodSeconds of Deployment %s", c.owner()).isGreaterThan(shutdown);
    }
  }

  @ParameterizedTest(name = "{0}: requests and limits everywhere; the worker's direct memory fits its KV cache")
  @ValueSource(strings = {"cpu", "gpu"})
  void everyContainerHasRequestsAndLimitsThatFitItsJvm(String overlay) {
    for (Container c : containers(render(overlay))) {
      for (String kind : List.of("requests", "limits")) {
        for (String resource : List.of("cpu", "memory")) {
          softly.assertThat(c.spec().at("/resources/" + kind + "/" + resource).asText())
              .as("%s.%s of Deployment %s", kind, resource, c.owner()).isNotBlank();
        }
      }
      long heap = jvmBytes(c.var("JDK_JAVA_OPTIONS"), "-Xmx");
      long direct = jvmBytes(c.var("JDK_JAVA_OPTIONS"), "-XX:MaxDirectMemorySize=");
      long limit = bytes(c.spec().at("/resources/limits/memory").asText());
      softly.assertThat(heap).as("Deployment %s's -Xmx", c.owner()).isPositive();
      softly.assertThat(heap + direct).as("heap and direct memory of Deployment %s, within its limit", c.owner())
          .isLessThan(limit);
      if (c.service().equals(WORKER)) {
        long kv = ((WorkerConfig) readConfig(c)).engine().kvBudgetBytes();
        softly.assertThat(direct).as("Deployment %s's direct memory: twice its KV-cache budget", c.owner())
            .isGreaterThanOrEqualTo(2 * kv);
      }
    }
  }

  @ParameterizedTest(name = "{0}: the workers' device, GPU and image match the overlay")
  @ValueSource(strings = {"cpu", "gpu"})
  void theWorkersDeviceMatchesTheOverlay(String overlay) {
    boolean gpu = overlay.equals("gpu");
    for (Container c : containers(render(overlay))) {
      boolean gpuWorker = gpu && c.service().equals(WORKER);
      softly.assertThat(c.spec().at("/resources/limits/nvidia.com~1gpu").asText())
          .as("the GPUs of Deployment %s", c.owner()).isEqualTo(gpuWorker ? "1" : "");
      softly.assertThat(c.env().getOrDefault("AIGC_DEVICE", "cpu")).as("AIGC_DEVICE of Deployment %s", c.owner())
          .isEqualTo(gpuWorker ? "cuda" : "cpu");
      softly.assertThat(dockerfile(c.spec().path("image").asText()).getFileName().toString())
          .as("the Dockerfile of Deployment %s's image", c.owner()).isEqualTo(gpuWorker ? "Dockerfile.cuda" : "Dockerfile");
    }
  }

  @ParameterizedTest(name = "{0}: every image is built by its service's Dockerfile")
  @ValueSource(strings = {"cpu", "gpu"})
  void everyImageIsBuiltByItsServicesDockerfile(String overlay) {
    for (Container c : containers(render(overlay))) {
      checkDockerfile(softly, c.service(), dockerfile(c.spec().path("image").asText()));
    }
  }

  @Test
  void theCudaImageIsCuda12WithCudnn9AndTheGpuBuild() throws IOException {
    String cuda = Files.readString(ROOT.resolve("inference-worker/Dockerfile.cuda"));
    List<String> bases = matches(Pattern.compile("(?m)^FROM\\s+(\\S+)"), cuda);
    // nvidia/cuda's cudnn tags of CUDA 12 carry cuDNN 9, which ONNX Runtime's CUDA 12 build needs.
    assertThat(bases.get(bases.size() - 1)).matches("nvidia/cuda:12\\.\\d+(\\.\\d+)?-cudnn-runtime-ubuntu\\d+\\.\\d+");
    assertThat(cuda).contains("-Pcuda");
  }

  // ---- the compose file ----

  @Test
  void theComposeFileRunsTheFourServicesAgainstItsBroker() throws IOException {
    Path file = ROOT.resolve("deploy/compose/compose.yaml");
    JsonNode compose = YAML.readTree(file.toFile());
    JsonNode services = compose.path("services");
    softly.assertThat(names(services)).containsExactlyInAnyOrderElementsOf(
        concat(ProcessCluster.SERVICES, List.of("broker")));
    JsonNode broker = services.path("broker");
    softly.assertThat(broker.path("image").asText()).as("the broker: the Kafka the project builds and tests with")
        .isEqualTo("apache/kafka:" + pomProperty("kafka.version"));
    String advertised = broker.at("/environment/KAFKA_ADVERTISED_LISTENERS").asText();
    for (String service : ProcessCluster.SERVICES) {
      JsonNode s = services.path(service);
      Map<String, String> env = new LinkedHashMap<>();
      s.path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
      Container c = new Container(service, service, s, s, env);
      softly.assertThat(unread(service, env.keySet())).as("variables compose sets that %s does not read", service)
          .isEmpty();
      softly.assertThatCode(() -> readConfig(c)).as("%s's configuration from compose", service)
          .doesNotThrowAnyException();
      softly.assertThat(advertised).as("the broker's listeners, which %s's KAFKA_BOOTSTRAP_SERVERS names", service)
          .contains("//" + env.get("KAFKA_BOOTSTRAP_SERVERS"));
      softly.assertThat(s.at("/build/dockerfile").asText()).isEqualTo(service + "/Dockerfile");
      softly.assertThat(file.getParent().resolve(s.at("/build/context").asText()).normalize()).isEqualTo(ROOT);
      checkDockerfile(softly, service, dockerfile(s.path("image").asText()));
      // The models come from the repository, mounted where AIGC_MODEL_DIR points.
      String mount = s.path("volumes").path(0).asText();
      String[] parts = mount.split(":");
      for (String dir : env.getOrDefault("AIGC_MODEL_DIR", "").split(",")) {
        Path inside = Path.of(dir.strip());
        softly.assertThat(inside.startsWith(parts[1])).as("%s's AIGC_MODEL_DIR %s under its mount %s", service, dir,
            mount).isTrue();
        softly.assertThat(file.getParent().resolve(parts[0]).resolve(Path.of(parts[1]).relativize(inside)))
            .as("%s's model on this machine", service).isDirectory();
      }
      Duration grace = Env.of(Map.of("G", s.path("stop_grace_period").asText("10s"))).duration("G", null);
      Duration shutdown = service.equals(WORKER) ? c.drainTimeout().plus(WORKER_CLOSE_AFTER_DRAIN)
          : service.equals(GATEWAY) ? Duration.ZERO : STREAMS_CLOSE;
      softly.assertThat(grace).as("%s's stop_grace_period", service).isGreaterThan(shutdown);
    }
    Container gateway = new Container(GATEWAY, GATEWAY, null, null, Map.of("AIGC_HTTP_PORT",
        services.at("/gateway/environment/AIGC_HTTP_PORT").asText(String.valueOf(ServiceDefaults.GATEWAY_HTTP_PORT))));
    softly.assertThat(services.at("/gateway/ports/0").asText()).as("the gateway's published port")
        .endsWith(":" + gateway.port());
  }

  // ---- reading the manifests ----

  /** The overlay rendered by kubectl's kustomize, each document parsed; once per overlay. */
  static List<JsonNode> render(String overlay) {
    return RENDERED.computeIfAbsent(overlay, o -> {
      assertThat(System.getenv("PATH").split(File.pathSeparator))
          .as("kubectl is missing from PATH; it renders deploy/k8s offline: %s (.ci/run installs it)", KUBECTL_INSTALL)
          .anyMatch(dir -> Files.isExecutable(Path.of(dir, "kubectl")));
      Commands.Result result = Commands.run(List.of("kubectl", "kustomize", "deploy/k8s/overlays/" + o), Map.of(),
          Duration.ofSeconds(60));
      assertThat(result.exit()).as("kubectl kustomize deploy/k8s/overlays/%s\n%s", o, result).isZero();
      try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(result.out())) {
        List<JsonNode> all = docs.readAll().stream().filter(d -> d != null && d.isObject()).toList();
        assertThat(all).as("the resources of overlay %s", o).isNotEmpty();
        return all;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  static List<JsonNode> ofKind(List<JsonNode> all, String kind) {
    return all.stream().filter(r -> r.path("kind").asText().equals(kind)).toList();
  }

  static String name(JsonNode resource) {
    return resource.at("/metadata/name").asText();
  }

  static JsonNode deployment(List<JsonNode> all, String name) {
    return ofKind(all, "Deployment").stream().filter(d -> name(d).equals(name)).findFirst().orElseThrow();
  }

  /** What runs the services' pods: Deployments, and the StatefulSet of the gateway that holds the Batch API. */
  static List<JsonNode> workloads(List<JsonNode> all) {
    return concat(ofKind(all, "Deployment"), ofKind(all, "StatefulSet"));
  }

  /** Every container of every workload, its environment resolved: literal values, ConfigMaps and Secrets. */
  static List<Container> containers(List<JsonNode> all) {
    List<Container> containers = new ArrayList<>();
    for (JsonNode deployment : workloads(all)) {
      JsonNode pod = deployment.at("/spec/template");
      for (JsonNode spec : pod.at("/spec/containers")) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : spec.path("envFrom")) {
          String kind = from.has("configMapRef") ? "ConfigMap" : "Secret";
          String source = from.path(from.has("configMapRef") ? "configMapRef" : "secretRef").path("name").asText();
          JsonNode resource = ofKind(all, kind).stream().filter(r -> name(r).equals(source)).findFirst()
              .orElseThrow(() -> new AssertionError(name(deployment) + " takes variables from a missing " + kind
                  + " " + source));
          for (String field : List.of("data", "stringData")) {
            resource.path(field).fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
          }
        }
        for (JsonNode variable : spec.path("env")) {
          // A value from a Secret or the pod's fields is known only in the cluster: a stand-in here.
          env.put(variable.path("name").asText(), variable.has("value") ? variable.path("value").asText()
              : "from-" + variable.path("valueFrom").fieldNames().next());
        }
        containers.add(new Container(name(deployment), service(spec.path("image").asText()), pod, spec, env));
      }
    }
    return containers;
  }

  static List<Container> gateways(List<Container> containers) {
    return containers.stream().filter(c -> c.service().equals(GATEWAY)).toList();
  }

  /** The gateway Deployment callers reach, which scales out. */
  static Container interactiveGateway(List<JsonNode> all) {
    List<Container> found = gateways(containers(all)).stream()
        .filter(c -> ofKind(all, "Deployment").stream().anyMatch(d -> name(d).equals(c.owner()))).toList();
    assertThat(found).as("the gateway Deployments").hasSize(1);
    return found.get(0);
  }

  static List<Container> workers(List<Container> containers) {
    return containers.stream().filter(c -> c.service().equals(WORKER)).toList();
  }

  static Container only(List<Container> containers, String service) {
    List<Container> found = containers.stream().filter(c -> c.service().equals(service)).toList();
    assertThat(found).as("the Deployments of %s", service).hasSize(1);
    return found.get(0);
  }

  /** A service's image is {@code [registry/]aigc/<service>:<tag>}. */
  static String service(String image) {
    String repository = image.substring(0, image.lastIndexOf(':') > image.lastIndexOf('/') ? image.lastIndexOf(':')
        : image.length());
    return repository.substring(repository.lastIndexOf('/') + 1);
  }

  /** The Dockerfile an image comes from: {@code <service>/Dockerfile}, or its {@code .cuda} one for a -cuda tag. */
  static Path dockerfile(String image) {
    String tag = image.substring(image.lastIndexOf(':') + 1);
    assertThat(tag.replaceFirst("-cuda$", "")).as("the tag of %s: the project's version", image)
        .isEqualTo(pomVersion());
    return ROOT.resolve(service(image)).resolve(tag.endsWith("-cuda") ? "Dockerfile.cuda" : "Dockerfile");
  }

  static void checkDockerfile(SoftAssertions softly, String service, Path dockerfile) {
    softly.assertThat(dockerfile).as("%s's Dockerfile", service).isRegularFile();
    if (!Files.isRegularFile(dockerfile)) {
      return;
    }
    String text = read(dockerfile);
    softly.assertThat(text).as(dockerfile.toString())
        .contains("-pl " + service + " -am package")
        .contains("/src/" + service + "/target/" + service + "-" + pomVersion() + ".jar")
        .contains("/src/" + service + "/target/lib/")
        .containsPattern("(?m)^USER [1-9]")
        .contains("EXPOSE " + new Container(service, service, null, null, Map.of()).port());
  }

  static Map<String, JsonNode> kafkaTopics(List<JsonNode> all) {
    Map<String, JsonNode> topics = new LinkedHashMap<>();
    for (JsonNode topic : ofKind(all, "KafkaTopic")) {
      topics.put(topic.at("/spec/topicName").asText(name(topic)), topic);
    }
    return topics;
  }

  static int partitions(List<JsonNode> all, String topic) {
    JsonNode kafkaTopic = kafkaTopics(all).get(topic);
    assertThat(kafkaTopic).as("the KafkaTopic %s", topic).isNotNull();
    return kafkaTopic.at("/spec/partitions").asInt();
  }

  static Duration retention(List<JsonNode> all, String topic) {
    return Duration.ofMillis(Long.parseLong(kafkaTopics(all).get(topic).at("/spec/config/retention.ms").asText()));
  }

  static boolean autoscaled(List<JsonNode> all, JsonNode deployment) {
    return concat(ofKind(all, "HorizontalPodAutoscaler"), ofKind(all, "ScaledObject")).stream()
        .anyMatch(a -> a.at("/spec/scaleTargetRef/name").asText().equals(name(deployment)));
  }

  /** The fewest replicas a Deployment runs: its own count, or its autoscaler's minimum. */
  static int fewestReplicas(List<JsonNode> all, JsonNode deployment) {
    for (JsonNode hpa : ofKind(all, "HorizontalPodAutoscaler")) {
      if (hpa.at("/spec/scaleTargetRef/name").asText().equals(name(deployment))) {
        return hpa.at("/spec/minReplicas").asInt(1);
      }
    }
    for (JsonNode scaler : ofKind(all, "ScaledObject")) {
      if (scaler.at("/spec/scaleTargetRef/name").asText().equals(name(deployment))) {
        return scaler.at("/spec/minReplicaCount").asInt(0);
      }
    }
    return deployment.at("/spec/replicas").asInt(1);
  }

  static int containerPort(JsonNode container, JsonNode port) {
    if (port.isInt()) {
      return port.asInt();
    }
    for (JsonNode p : container.path("ports")) {
      if (p.path("name").asText().equals(port.asText())) {
        return p.path("containerPort").asInt();
      }
    }
    return -1;
  }

  static boolean matches(JsonNode selector, JsonNode labels) {
    List<String> missing = new ArrayList<>();
    selector.fields().forEachRemaining(e -> {
      if (!e.getValue().equals(labels.path(e.getKey()))) {
        missing.add(e.getKey());
      }
    });
    return missing.isEmpty();
  }

  // ---- what the services read and serve ----

  /** The variables of {@code names} that {@code service} does not read (its README tables, prefixes included). */
  static Set<String> unread(String service, Set<String> names) {
    Set<String> read = new TreeSet<>(ConfigurationDocumentedTest.TABLES.get(service));
    read.addAll(ConfigurationDocumentedTest.TABLES.get(ConfigurationDocumentedTest.EVERY_SERVICE));
    read.addAll(JVM_VARIABLES);
    return names.stream().filter(name -> !read.contains(name)
            && read.stream().noneMatch(r -> r.endsWith("*") && name.startsWith(r.substring(0, r.length() - 1))))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /**
   * The service's configuration, read from the container's environment as the service reads it at start, so a value
   * it would refuse fails here. The gateway's key file exists only in the pod: the rest of its settings are read
   * without it.
   */
  static Object readConfig(Container c) {
    Map<String, String> env = new HashMap<>(c.env());
    if (c.service().equals(GATEWAY) && env.remove("AIGC_API_KEYS_FILE") != null) {
      env.put("AIGC_AUTH", "none");
    }
    Env e = Env.of(env);
    return switch (c.service()) {
      case GATEWAY -> GatewayConfig.fromEnv(e);
      case TOKENIZER -> TokenizerConfig.fromEnv(e);
      case WORKER -> WorkerConfig.fromEnv(e);
      case POSTPROCESSOR -> PostprocessorConfig.fromEnv(e);
      default -> throw new AssertionError("not a service: " + c.service());
    };
  }

  /** The paths the gateway answers GET on, from its route table. */
  static Set<String> gatewayGetRoutes() {
    try {
      Field methods = Class.forName("io.aigc.gateway.Routes").getDeclaredField("METHODS");
      methods.setAccessible(true);
      Map<?, ?> routes = (Map<?, ?>) methods.get(null);
      return routes.entrySet().stream().filter(r -> r.getValue().toString().contains("GET"))
          .map(r -> r.getKey().toString()).collect(Collectors.toSet());
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("the gateway's route table (Routes.METHODS) moved: " + e, e);
    }
  }

  /** What the other services' health server answers a GET of {@code path} with. */
  static int healthServerAnswers(String path) throws IOException {
    try (HealthServer server = HealthServer.start(new HealthSettings("127.0.0.1", 0), new PrometheusRegistry(),
        () -> true, () -> true)) {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build();
      return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // ---- small helpers ----

  static String readmeSection(String title) {
    String readme = read(ROOT.resolve("README.md"));
    int start = readme.indexOf("\n## " + title + "\n");
    assertThat(start).as("the README's \"## %s\" section", title).isNotNegative();
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  static String pomVersion() {
    return matches(Pattern.compile("<artifactId>aigc-parent</artifactId>\\s*<version>([^<]+)</version>"),
        read(ROOT.resolve("pom.xml"))).get(0);
  }

  static String pomProperty(String name) {
    return matches(Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</"), read(ROOT.resolve("pom.xml"))).get(0);
  }

  /** A JVM option's size in bytes ({@code -Xmx768m}, {@code -XX:MaxDirectMemorySize=3g}), 0 if absent. */
  static long jvmBytes(String options, String option) {
    Matcher m = Pattern.compile("(?:^|\\s)" + Pattern.quote(option) + "(\\d+)([kKmMgG]?)(?:\\s|$)")
        .matcher(options == null ? "" : options);
    return m.find() ? Long.parseLong(m.group(1)) << switch (m.group(2).toLowerCase()) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      default -> 0;
    } : 0;
  }

  /** A Kubernetes memory quantity in bytes ({@code 512Mi}, {@code 6Gi}). */
  static long bytes(String quantity) {
    Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi)?").matcher(quantity);
    assertThat(m.matches()).as("a memory quantity: %s", quantity).isTrue();
    int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
      case "Ki" -> 10;
      case "Mi" -> 20;
      default -> 30;
    };
    return Long.parseLong(m.group(1)) << shift;
  }

  static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  static List<String> matches(Pattern pattern, String text) {
    List<String> found = new ArrayList<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
