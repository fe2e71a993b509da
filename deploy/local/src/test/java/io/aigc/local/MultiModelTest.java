package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.gateway.GatewayConfig;
import io.aigc.gateway.GatewayService;
import io.aigc.model.testing.TestModels;
import io.aigc.postprocessor.CompletionTopology;
import io.aigc.postprocessor.PostprocessorConfig;
import io.aigc.runtime.Env;
import io.aigc.runtime.Service;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionStatus;
import io.aigc.tokenizer.TokenizerConfig;
import io.aigc.tokenizer.TokenizerTopology;
import io.aigc.worker.WorkerConfig;
import io.aigc.worker.WorkerService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.aigc.runtime.KafkaSettings;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One deployment, two models, a worker pool each, against a real broker: each request reaches its own model's pool
 * only and is answered in that model's words; {@code GET /v1/models} lists both; an unknown model is a 404
 * {@code model_not_found}; and the jobs of a model whose pool has no worker wait in Kafka until one starts.
 */
class MultiModelTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  static final String LLAMA = TestModels.TINY_LLAMA;
  static final String GPT2 = TestModels.TINY_GPT2;

  @TempDir
  Path stateDir;
  private EmbeddedKafka kafka;
  private final List<Service> services = new ArrayList<>();

  @AfterEach
  void stop() {
    for (int i = services.size() - 1; i >= 0; i--) {
      services.get(i).close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void eachModelsJobsReachItsOwnPoolAndWaitInKafkaWhileThePoolIsEmpty() throws Exception {
    kafka = EmbeddedKafka.start();
    Env env = kafka.serviceEnv(stateDir, 2, Map.of(
        "AIGC_MODEL_DIR", TestModels.dir(LLAMA) + "," + TestModels.dir(GPT2),
        "AIGC_HTTP_HOST", "127.0.0.1", "AIGC_HTTP_PORT", "0", "AIGC_AUTH", "none"));
    start(CompletionTopology.service(PostprocessorConfig.fromEnv(env)));
    // tiny-llama's pool has a worker; tiny-gpt2's has none yet.
    start(new WorkerService(WorkerConfig.fromEnv(env.with(Map.of("AIGC_MODEL_DIR", TestModels.dir(LLAMA).toString(),
        "AIGC_WORKER_ID", "llama-worker")))));
    start(TokenizerTopology.service(TokenizerConfig.fromEnv(env)));
    GatewayService gateway = start(new GatewayService(GatewayConfig.fromEnv(env)));
    await().atMost(Duration.ofSeconds(60)).until(() -> services.stream().allMatch(Service::ready));
    String base = "http://127.0.0.1:" + gateway.httpPort();

    JsonNode models = JSON.readTree(send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(), 200));
    assertThat(models.get("data").findValuesAsText("id")).containsExactly(LLAMA, GPT2);
    JsonNode unknown = JSON.readTree(send(post(base, "gpt-4o"), 404));
    assertThat(unknown.at("/error/code").asText()).isEqualTo("model_not_found");

    List<String> llamaJobs = new ArrayList<>();
    List<String> gpt2Jobs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      llamaJobs.add(JSON.readTree(send(post(base, i == 0 ? null : LLAMA), 202)).get("id").asText());
      gpt2Jobs.add(JSON.readTree(send(post(base, GPT2), 202)).get("id").asText());
    }
    // tiny-llama's jobs complete; tiny-gpt2's wait in their topic, tokenized, for a worker of their own.
    CompletionsChecker.Report llamaDone = CompletionsChecker.check(kafka.bootstrapServers(), llamaJobs,
        Duration.ofSeconds(60));
    assertThat(llamaDone.missing()).isEmpty();
    assertThat(llamaJobs).allSatisfy(id -> {
      Completion c = llamaDone.byId().get(id).get(0);
      assertThat(c.getStatus()).isEqualTo(CompletionStatus.OK);
      assertThat(c.getModel()).isEqualTo(LLAMA);
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> records("generation.tokenized." + GPT2) == 3);
    assertThat(gpt2Jobs).allSatisfy(id -> assertThat(llamaDone.byId()).doesNotContainKey(id));
    for (String id : gpt2Jobs) {
      JsonNode job = JSON.readTree(send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id)).build(), 200));
      assertThat(job.get("status").asText()).isEqualTo("queued");
      assertThat(job.get("model").asText()).isEqualTo(GPT2);
    }

    // A worker of tiny-gpt2's pool starts later and serves them.
    start(new WorkerService(WorkerConfig.fromEnv(env.with(Map.of("AIGC_MODEL_DIR", TestModels.dir(GPT2).toString(),
        "AIGC_WORKER_ID", "gpt2-worker")))));
    CompletionsChecker.Report all = CompletionsChecker.check(kafka.bootstrapServers(),
        concat(llamaJobs, gpt2Jobs), Duration.ofSeconds(60));
    assertThat(all.exactlyOnce()).as("missing %s, doubled %s", all.missing(), all.doubled()).isTrue();
    assertThat(gpt2Jobs).allSatisfy(id -> {
      Completion c = all.byId().get(id).get(0);
      assertThat(c.getStatus()).as("%s", c.getError()).isEqualTo(CompletionStatus.OK);
      assertThat(c.getModel()).isEqualTo(GPT2);
    });
    // Each pool generated its own model's jobs, and only those.
    assertThat(WorkShare.sequencesByWorker(kafka.bootstrapServers(), llamaJobs)).containsOnlyKeys("llama-worker");
    assertThat(WorkShare.sequencesByWorker(kafka.bootstrapServers(), gpt2Jobs)).containsOnlyKeys("gpt2-worker");
  }

  private <S extends Service> S start(S service) throws Exception {
    service.start();
    services.add(service);
    return service;
  }

  /** The committed records of {@code topic} (the tokenizer writes in transactions, whose markers take offsets). */
  private int records(String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaSettings.fromEnv(Env.of(kafka.env()))
        .consumer(null, "count"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      int count = 0;
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return count;
    }
  }

  /** An async job for {@code model} (none named when null). */
  private static HttpRequest post(String base, String model) throws Exception {
    var body = JSON.createObjectNode().put("prompt", "This License applies to").put("max_tokens", 8)
        .put("temperature", 0);
    if (model != null) {
      body.put("model", model);
    }
    return HttpRequest.newBuilder(URI.create(base + "/v1/jobs")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
  }

  private static String send(HttpRequest request, int status) throws Exception {
    HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    return response.body();
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
