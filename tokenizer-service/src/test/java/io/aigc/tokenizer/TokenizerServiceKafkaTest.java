package io.aigc.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.StreamsService;
import io.aigc.runtime.streams.PoisonBytes;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.runtime.testing.TestModels;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationParams;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.TokenizedRequest;
import io.aigc.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real service, exactly-once, against a real broker: what it writes is visible to read_committed readers. */
class TokenizerServiceKafkaTest {
  private static final Topics TOPICS = Topics.defaults();

  @TempDir
  Path stateDir;

  @Test
  void tokenizesARequestAndDeadLettersPoisonThroughARealBroker() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Map<String, String> vars = new HashMap<>(kafka.env());
      vars.put("AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString());
      vars.put("AIGC_STATE_DIR", stateDir.toString());
      vars.put("AIGC_METRICS_HOST", "127.0.0.1");
      vars.put("AIGC_METRICS_PORT", "0");
      vars.put("AIGC_TOPIC_PARTITIONS", "2");
      Env env = Env.of(vars);

      try (StreamsService service = TokenizerService.create(TokenizerConfig.fromEnv(env))) {
        service.start();
        KafkaSettings settings = KafkaSettings.fromEnv(env);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(settings.producer("test-producer"),
            new StringSerializer(), new ByteArraySerializer())) {
          producer.send(new ProducerRecord<>(TOPICS.requests().name(), "r-poison", PoisonBytes.notAvro()));
          producer.send(new ProducerRecord<>(TOPICS.requests().name(), "r-1",
              TOPICS.requests().valueSerde().encode(request("r-1", "This License applies to any program"))));
          producer.flush();
        }

        Map<String, List<ConsumerRecord<String, byte[]>>> seen = readCommitted(settings,
            List.of(TOPICS.tokenized().name(), TOPICS.generated().name(), TOPICS.dlq().name()));

        TokenizedRequest tokenized = TOPICS.tokenized().valueSerde().decode(
            seen.get(TOPICS.tokenized().name()).get(0).value());
        assertThat(seen.get(TOPICS.tokenized().name()).get(0).key()).isEqualTo("r-1");
        assertThat(tokenized.getPromptTokenIds()).containsExactly(1, 752, 400, 727, 555, 370, 428, 561);

        GeneratedSequence error = TOPICS.generated().valueSerde().decode(
            seen.get(TOPICS.generated().name()).get(0).value());
        assertThat(error.getRequest().getRequestId()).isEqualTo("r-poison");
        assertThat(error.getError().getCode()).isEqualTo("poison_record");

        DeadLetter letter = TOPICS.dlq().valueSerde().decode(seen.get(TOPICS.dlq().name()).get(0).value());
        assertThat(letter.getReasonCode()).isEqualTo("not_avro");
        assertThat(letter.getSourceTopic()).isEqualTo(TOPICS.requests().name());
        assertThat(letter.getRequestId()).isEqualTo("r-poison");

        String metrics = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.metricsPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("aigc_tokenizer_requests_tokenized_total 1.0")
            .contains("aigc_tokenizer_dead_letters_total{reason=\"not_avro\"} 1.0");
        assertThat(service.ready()).isTrue();
      }
    }
  }

  /** Reads the topics from the start as a read_committed consumer until each holds a record. */
  private static Map<String, List<ConsumerRecord<String, byte[]>>> readCommitted(KafkaSettings settings,
      List<String> topics) {
    Map<String, List<ConsumerRecord<String, byte[]>>> seen = new HashMap<>();
    topics.forEach(t -> seen.put(t, new ArrayList<>()));
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings.consumer(null, "test-reader"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      topics.forEach(t -> consumer.partitionsFor(t).forEach(p -> partitions.add(new TopicPartition(t, p.partition()))));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> seen.get(r.topic()).add(r));
        return seen.values().stream().noneMatch(List::isEmpty);
      });
    }
    return seen;
  }

  private static GenerationRequest request(String id, String prompt) {
    return GenerationRequest.newBuilder()
        .setRequestId(id)
        .setCreatedAt(System.currentTimeMillis())
        .setDeadline(null)
        .setModel(null)
        .setPrompt(prompt)
        .setParams(GenerationParams.newBuilder().setMaxTokens(16).build())
        .setMetadata(Map.of())
        .build();
  }
}
