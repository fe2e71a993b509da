package io.aigc.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.engine.DirectDecoder;
import io.aigc.engine.OnnxModel;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.model.ModelDirectory;
import io.aigc.text.TextTokenizer;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.model.testing.TestModels;
import io.aigc.schemas.Cancellation;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.TokenizedRequest;
import io.aigc.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The worker against a real broker: requests in, generated tokens out, poison to the dead-letter topic. */
class WorkerServiceTest {
  static EmbeddedKafka kafka;
  static final Topics topics = Topics.defaults();

  @BeforeAll
  static void broker() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  private Env env() {
    return Env.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "AIGC_TOPIC_PARTITIONS", "2",
        "AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(), "AIGC_METRICS_PORT", "0",
        "AIGC_WORKER_ID", "worker-test"));
  }

  @Test
  void generatesWhatTheModelGivesAndDeadLettersWhatItCannotRead() throws Exception {
    ModelDirectory dir = ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA));
    Map<String, int[]> expected = new HashMap<>();
    List<TokenizedRequest> requests = new ArrayList<>();
    try (TextTokenizer tokenizer = TextTokenizer.load(dir);
        OnnxModel model = OnnxModel.open(dir, OnnxModel.SessionSettings.cpu().withThreads(1, false))) {
      for (int i = 0; i < TestModels.PROMPTS.size(); i++) {
        int[] ids = tokenizer.encode(TestModels.PROMPTS.get(i));
        expected.put("req-" + i, DirectDecoder.greedy(model, List.of(ids), 12, true).get(0));
        requests.add(tokenized("req-" + i, ids, 12));
      }
    }

    WorkerService worker = new WorkerService(WorkerConfig.fromEnv(env()));
    try {
      worker.start();
      generatesAndDeadLetters(worker, expected, requests);
    } finally {
      worker.close();
    }
  }

  private void generatesAndDeadLetters(WorkerService worker, Map<String, int[]> expected,
      List<TokenizedRequest> requests) throws Exception {
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
        KafkaSettings.fromEnv(env()).producer("test"), new StringSerializer(), new ByteArraySerializer())) {
      // Poison first, on the partition the first good request goes to: the partition must keep flowing.
      producer.send(new ProducerRecord<>(topics.tokenized().name(), 0, "not-avro", "{\"prompt\":1}".getBytes())).get();
      producer.send(new ProducerRecord<>(topics.tokenized().name(), 0, "out-of-vocab",
          topics.tokenized().valueSerde().encode(tokenized("out-of-vocab", new int[] {1, 99_999}, 4)))).get();
      producer.send(new ProducerRecord<>(topics.tokenized().name(), 0, null, "garbage".getBytes())).get();
      for (TokenizedRequest r : requests) {
        producer.send(new ProducerRecord<>(topics.tokenized().name(), 0, r.getRequest().getRequestId(),
            topics.tokenized().valueSerde().encode(r))).get();
      }
    }

    Map<String, GeneratedSequence> generated = new HashMap<>();
    List<DeadLetter> deadLetters = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = consumer()) {
      consumer.subscribe(List.of(topics.generated().name(), topics.dlq().name()));
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.topic().equals(topics.dlq().name())) {
            deadLetters.add(topics.dlq().valueSerde().decode(r.value()));
          } else {
            generated.put(r.key(), topics.generated().valueSerde().decode(r.value()));
          }
        }
        return generated.size() == requests.size() + 2 && deadLetters.size() == 3;
      });
    }

    for (var e : expected.entrySet()) {
      GeneratedSequence g = generated.get(e.getKey());
      assertThat(g.getStatus()).isEqualTo(CompletionStatus.OK);
      assertThat(g.getChoices().get(0).getTokenIds().stream().mapToInt(Integer::intValue).toArray())
          .as(e.getKey()).isEqualTo(e.getValue());
      assertThat(g.getTimings()).isNotNull();
      assertThat(g.getProducer()).isEqualTo("worker-test");
    }
    assertThat(generated.get("not-avro").getError().getCode()).isEqualTo(ErrorCodes.POISON_RECORD);
    assertThat(generated.get("out-of-vocab").getError().getCode()).isEqualTo(ErrorCodes.INVALID_REQUEST);
    assertThat(generated.get("out-of-vocab").getError().getMessage()).contains("99999");
    assertThat(deadLetters).extracting(DeadLetter::getReasonCode)
        .containsExactlyInAnyOrder("not_avro", "invalid_value", "not_avro");
    DeadLetter first = deadLetters.stream().filter(d -> "not-avro".equals(d.getRequestId())).findFirst().orElseThrow();
    assertThat(first.getSourceTopic()).isEqualTo(topics.tokenized().name());
    assertThat(first.getSourcePartition()).isZero();
    assertThat(first.getSourceOffset()).isZero();
    assertThat(first.getService()).isEqualTo("worker-test");

    // Every record's output is acknowledged, so every offset is committed.
    try (Admin admin = Admin.create(KafkaSettings.fromEnv(env()).admin("test-admin"))) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets("aigc-inference-worker").partitionsToOffsetAndMetadata().get();
        assertThat(committed.get(new TopicPartition(topics.tokenized().name(), 0)).offset())
            .isEqualTo(requests.size() + 3);
      });
    }

    HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + worker.metricsPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("aigc_worker_requests_total{outcome=\"ok\"} 8.0")
        .contains("aigc_worker_dead_letters_total{reason=\"not_avro\"} 2.0")
        .contains("aigc_worker_kv_budget_bytes");
    assertThat(worker.ready()).isTrue();
  }

  @Test
  void cancelledJobsAreDroppedOrRefusedAndTheirCallersTold() throws Exception {
    Env env = env().with(Map.of("AIGC_WORKER_GROUP", "cancel-test", "AIGC_WORKER_ID", "worker-cancel"));
    int[] prompt;
    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)))) {
      prompt = tokenizer.encode(TestModels.PROMPTS.get(0));
    }
    WorkerService worker = new WorkerService(WorkerConfig.fromEnv(env));
    worker.start();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
        KafkaSettings.fromEnv(env).producer("test"), new StringSerializer(), new ByteArraySerializer())) {
      // "early" is cancelled before it reaches the worker; "late" after it was submitted; "kept" is not.
      cancel(producer, "early");
      await().atMost(Duration.ofSeconds(30)).until(() -> worker.ready());
      for (String id : List.of("early", "late", "kept")) {
        TokenizedRequest request = tokenized(id, prompt, 200, true);
        producer.send(new ProducerRecord<>(topics.tokenized().name(), 1, id,
            topics.tokenized().valueSerde().encode(request))).get();
      }
      cancel(producer, "late");
    }
    Map<String, GeneratedSequence> generated = new HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer = consumer()) {
      consumer.subscribe(List.of(topics.generated().name()));
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          GeneratedSequence g = topics.generated().valueSerde().decode(r.value());
          if ("worker-cancel".equals(g.getProducer())) {
            generated.put(r.key(), g);
          }
        }
        return generated.keySet().containsAll(List.of("early", "late", "kept"));
      });
    } finally {
      worker.close();
    }
    assertThat(generated.get("early").getError().getCode()).isEqualTo(ErrorCodes.CANCELLED);
    assertThat(generated.get("late").getStatus()).isEqualTo(CompletionStatus.ERROR);
    assertThat(generated.get("late").getError().getCode()).isEqualTo(ErrorCodes.CANCELLED);
    assertThat(generated.get("kept").getStatus()).isEqualTo(CompletionStatus.OK);
    assertThat(generated.get("kept").getChoices().get(0).getTokenIds()).hasSize(200);
  }

  private static void cancel(KafkaProducer<String, byte[]> producer, String id) throws Exception {
    producer.send(new ProducerRecord<>(topics.cancellations().name(), id, topics.cancellations().valueSerde()
        .encode(new Cancellation(id, System.currentTimeMillis(), "test")))).get();
  }

  static TokenizedRequest tokenized(String id, int[] ids, int maxTokens) {
    return tokenized(id, ids, maxTokens, false);
  }

  static TokenizedRequest tokenized(String id, int[] ids, int maxTokens, boolean ignoreEos) {
    List<Integer> list = new ArrayList<>();
    for (int t : ids) {
      list.add(t);
    }
    GenerationRequest request = RequestSpec.builder().prompt("(test)").maxTokens(maxTokens).temperature(0)
        .ignoreEos(ignoreEos).build().toEvent(id, Instant.now(), "tiny-llama");
    return TokenizedRequest.newBuilder().setRequest(request).setModel("tiny-llama").setPromptTokenIds(list)
        .setTokenizedAt(System.currentTimeMillis()).build();
  }

  private KafkaConsumer<String, byte[]> consumer() {
    return new KafkaConsumer<>(KafkaSettings.fromEnv(env()).consumer("test-" + System.nanoTime(), "test"),
        new StringDeserializer(), new ByteArrayDeserializer());
  }
}
