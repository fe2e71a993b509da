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
import io.aigc.schemas.StreamEvent;
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
      producer.send(new ProducerRecord<>(topics.tokenized("tiny-llama").name(), 0, "not-avro", "{\"prompt\":1}".getBytes())).get();
      producer.send(new ProducerRecord<>(topics.tokenized("tiny-llama").name(), 0, "out-of-vocab",
          topics.tokenized("tiny-llama").valueSerde().encode(tokenized("out-of-vocab", new int[] {1, 99_999}, 4)))).get();
      producer.send(new ProducerRecord<>(topics.tokenized("tiny-llama").name(), 0, null, "garbage".getBytes())).get();
      for (TokenizedRequest r : requests) {
        producer.send(new ProducerRecord<>(topics.tokenized("tiny-llama").name(), 0, r.getRequest().getRequestId(),
            topics.tokenized("tiny-llama").valueSerde().encode(r))).get();
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
    assertThat(first.getSourceTopic()).isEqualTo(topics.tokenized("tiny-llama").name());
    assertThat(first.getSourcePartition()).isZero();
    assertThat(first.getSourceOffset()).isZero();
    assertThat(first.getService()).isEqualTo("worker-test");

    // Every record's output is acknowledged, so every offset is committed.
    try (Admin admin = Admin.create(KafkaSettings.fromEnv(env()).admin("test-admin"))) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets("aigc-inference-worker.tiny-llama").partitionsToOffsetAndMetadata().get();
        assertThat(committed.get(new TopicPartition(topics.tokenized("tiny-llama").name(), 0)).offset())
            .isEqualTo(requests.size() + 3);
      });
    }

    HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + worker.metricsPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("aigc_worker_requests_total{outcome=\"ok\"} 8.0")
        .contains("aigc_dead_letters_total{reason=\"not_avro\",service=\"inference-worker\"} 2.0")
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
        producer.send(new ProducerRecord<>(topics.tokenized("tiny-llama").name(), 1, id,
            topics.tokenized("tiny-llama").valueSerde().encode(request))).get();
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

  @Test
  void streamsEveryChoicesTextAsItIsGeneratedAndTheJoinedPiecesAreTheFinalText() throws Exception {
    Env env = env().with(Map.of("AIGC_WORKER_GROUP", "stream-test", "AIGC_WORKER_ID", "worker-stream"));
    int[] prompt;
    String stop;
    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)))) {
      prompt = tokenizer.encode(TestModels.PROMPTS.get(0));
      OnnxModel model = OnnxModel.open(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)),
          OnnxModel.SessionSettings.cpu().withThreads(1, false));
      int[] greedy = DirectDecoder.greedy(model, List.of(prompt), 30, false).get(0);
      model.close();
      String text = tokenizer.continuation(prompt, greedy);
      stop = text.substring(text.length() / 2, text.length() / 2 + 2); // somewhere mid-way, across tokens maybe
    }
    Map<String, TokenizedRequest> requests = new HashMap<>();
    requests.put("greedy", tokenized("greedy", prompt, 30));
    requests.put("stopped", tokenized("stopped", prompt, 30, false));
    requests.get("stopped").getRequest().getParams().setStop(List.of(stop));
    requests.put("sampled", tokenized("sampled", prompt, 24));
    requests.get("sampled").getRequest().getParams().setN(3);
    requests.get("sampled").getRequest().getParams().setTemperature(1.0);
    requests.get("sampled").getRequest().getParams().setLogprobs(2);
    requests.get("sampled").getRequest().setStreamPartition(1);

    WorkerService worker = new WorkerService(WorkerConfig.fromEnv(env));
    Map<String, GeneratedSequence> generated = new HashMap<>();
    Map<String, List<StreamEvent>> events = new HashMap<>();
    try {
      worker.start();
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
          KafkaSettings.fromEnv(env).producer("test"), new StringSerializer(), new ByteArraySerializer())) {
        for (var r : requests.entrySet()) {
          producer.send(new ProducerRecord<>(topics.tokenized("tiny-llama").name(), r.getKey(),
              topics.tokenized("tiny-llama").valueSerde().encode(r.getValue()))).get();
        }
      }
      try (KafkaConsumer<String, byte[]> consumer = consumer()) {
        consumer.subscribe(List.of(topics.generated().name(), topics.stream().name()));
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (!requests.containsKey(r.key())) {
              continue;
            }
            if (r.topic().equals(topics.stream().name())) {
              StreamEvent e = topics.stream().valueSerde().decode(r.value());
              events.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(e);
              if (r.key().equals("sampled")) {
                assertThat(r.partition()).isEqualTo(1); // the partition the request named
              }
            } else {
              generated.put(r.key(), topics.generated().valueSerde().decode(r.value()));
            }
          }
          return generated.size() == requests.size() && requests.keySet().stream().allMatch(id ->
              events.getOrDefault(id, List.of()).stream().filter(e -> e.getFinishReason() != null).count()
                  == requests.get(id).getRequest().getParams().getN());
        });
      }
    } finally {
      worker.close();
    }

    try (TextTokenizer tokenizer = TextTokenizer.load(ModelDirectory.open(TestModels.dir(TestModels.TINY_LLAMA)))) {
      for (String id : requests.keySet()) {
        GeneratedSequence g = generated.get(id);
        assertThat(g.getStatus()).as(id).isEqualTo(CompletionStatus.OK);
        List<String> stops = g.getRequest().getParams().getStop();
        for (var choice : g.getChoices()) {
          List<StreamEvent> mine = events.get(id).stream().filter(e -> e.getChoice() == choice.getIndex()).toList();
          assertThat(mine).extracting(StreamEvent::getSequence).as("%s/%d", id, choice.getIndex())
              .isEqualTo(java.util.stream.IntStream.range(0, mine.size()).boxed().toList());
          String joined = mine.stream().map(StreamEvent::getText).collect(java.util.stream.Collectors.joining());
          String text = tokenizer.continuation(prompt,
              choice.getTokenIds().stream().mapToInt(Integer::intValue).toArray());
          int cut = io.aigc.text.TextStream.earliestStop(text, stops);
          assertThat(joined).as("%s/%d", id, choice.getIndex()).isEqualTo(cut < 0 ? text : text.substring(0, cut));
          StreamEvent last = mine.get(mine.size() - 1);
          assertThat(mine.subList(0, mine.size() - 1)).allMatch(e -> e.getFinishReason() == null);
          assertThat(last.getFinishReason()).isEqualTo(cut >= 0 ? "stop" : choice.getFinishReason());
          assertThat(last.getUsage().getCompletionTokens()).isEqualTo(choice.getTokenIds().size());
          assertThat(last.getUsage().getPromptTokens()).isEqualTo(prompt.length);
          assertThat(mine.stream().filter(e -> !e.getText().isEmpty()).count()).isGreaterThan(1); // streamed
          if (id.equals("sampled")) {
            assertThat(mine.stream().mapToInt(e -> e.getLogprobs().size()).sum())
                .isEqualTo(choice.getTokenIds().size());
            assertThat(mine.get(0).getLogprobs().get(0).getTop()).hasSize(2);
          } else {
            assertThat(mine).allMatch(e -> e.getLogprobs() == null);
          }
        }
      }
      assertThat(generated.get("stopped").getChoices().get(0).getFinishReason()).isEqualTo("stop");
    }
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
    GenerationRequest request = RequestSpec.builder().prompt("(test)")
        .sampling(s -> s.maxTokens(maxTokens).temperature(0).ignoreEos(ignoreEos)).build()
        .toEvent(id, Instant.now(), "tiny-llama");
    return TokenizedRequest.newBuilder().setRequest(request).setModel("tiny-llama").setPromptTokenIds(list)
        .setTokenizedAt(System.currentTimeMillis()).build();
  }

  private KafkaConsumer<String, byte[]> consumer() {
    return new KafkaConsumer<>(KafkaSettings.fromEnv(env()).consumer("test-" + System.nanoTime(), "test"),
        new StringDeserializer(), new ByteArrayDeserializer());
  }
}
