package io.aigc.postprocessor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.StreamsService;
import io.aigc.runtime.streams.PoisonBytes;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.runtime.testing.TestModels;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.GeneratedChoice;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationParams;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.Topics;
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

/** The real service, exactly-once, against a real broker: one completion per id, visible to read_committed readers. */
class PostprocessorServiceKafkaTest {
  private static final Topics TOPICS = Topics.defaults();
  private static final String CHANGELOG = "aigc-postprocessor-completed-requests-changelog";

  @TempDir
  Path stateDir;

  @Test
  void completesOncePerIdAndDeadLettersPoisonThroughARealBroker() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Map<String, String> vars = new HashMap<>(kafka.env());
      vars.put("AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString());
      vars.put("AIGC_STATE_DIR", stateDir.toString());
      vars.put("AIGC_METRICS_HOST", "127.0.0.1");
      vars.put("AIGC_METRICS_PORT", "0");
      // One partition, so the records below are processed in the order they are sent.
      vars.put("AIGC_TOPIC_PARTITIONS", "1");
      Env env = Env.of(vars);

      try (StreamsService service = PostprocessorService.create(PostprocessorConfig.fromEnv(env))) {
        service.start();
        KafkaSettings settings = KafkaSettings.fromEnv(env);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(settings.producer("test-producer"),
            new StringSerializer(), new ByteArraySerializer())) {
          byte[] result = TOPICS.generated().valueSerde().encode(sequence("r-1"));
          producer.send(new ProducerRecord<>(TOPICS.generated().name(), "r-1", result));
          producer.send(new ProducerRecord<>(TOPICS.generated().name(), "r-1", result)); // a worker's retry
          producer.send(new ProducerRecord<>(TOPICS.generated().name(), "r-poison", PoisonBytes.notAvro()));
          producer.flush();
        }

        // The poison record is the last one sent: once its answer is visible, the duplicate was processed too.
        List<ConsumerRecord<String, byte[]>> seen = readCommittedUntil(settings,
            List.of(TOPICS.completions().name(), TOPICS.dlq().name(), CHANGELOG),
            records -> records.stream().anyMatch(r -> r.topic().equals(TOPICS.completions().name())
                && r.key().equals("r-poison")));

        List<Completion> completions = seen.stream().filter(r -> r.topic().equals(TOPICS.completions().name()))
            .map(r -> TOPICS.completions().valueSerde().decode(r.value())).toList();
        assertThat(completions).extracting(Completion::getRequestId).containsExactly("r-1", "r-poison");
        assertThat(completions.get(0).getStatus()).isEqualTo(CompletionStatus.OK);
        assertThat(completions.get(0).getChoices().get(0).getText()).isEqualTo(" applies to any program");
        assertThat(completions.get(1).getError().getCode()).isEqualTo("poison_record");

        List<DeadLetter> letters = seen.stream().filter(r -> r.topic().equals(TOPICS.dlq().name()))
            .map(r -> TOPICS.dlq().valueSerde().decode(r.value())).toList();
        assertThat(letters).extracting(DeadLetter::getReasonCode).containsExactly("not_avro");
        assertThat(letters.get(0).getSourceOffset()).isEqualTo(2);

        // The dedup store is backed by a changelog, written in the same transactions: a restore finds both ids.
        assertThat(seen.stream().filter(r -> r.topic().equals(CHANGELOG)).map(ConsumerRecord::key))
            .containsExactlyInAnyOrder("r-1", "r-poison");
        assertThat(service.ready()).isTrue();
      }
    }
  }

  private interface Done {
    boolean test(List<ConsumerRecord<String, byte[]>> records);
  }

  /** Reads the topics from the start as a read_committed consumer until {@code done}. */
  private static List<ConsumerRecord<String, byte[]>> readCommittedUntil(KafkaSettings settings, List<String> topics,
      Done done) {
    List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings.consumer(null, "test-reader"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      await().atMost(Duration.ofSeconds(60)).until(() -> topics.stream()
          .allMatch(t -> consumer.listTopics().containsKey(t)));
      List<TopicPartition> partitions = new ArrayList<>();
      topics.forEach(t -> consumer.partitionsFor(t).forEach(p -> partitions.add(new TopicPartition(t, p.partition()))));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
        return done.test(seen);
      });
    }
    return seen;
  }

  private static GeneratedSequence sequence(String id) {
    GenerationRequest request = GenerationRequest.newBuilder()
        .setRequestId(id)
        .setCreatedAt(System.currentTimeMillis())
        .setDeadline(null)
        .setModel(null)
        .setPrompt("This License")
        .setParams(GenerationParams.newBuilder().setMaxTokens(5).build())
        .setMetadata(Map.of())
        .build();
    return GeneratedSequence.newBuilder()
        .setRequest(request)
        .setModel("tiny-llama")
        .setPromptTokenIds(List.of(1, 752, 400))
        .setStatus(CompletionStatus.OK)
        .setError(null)
        .setChoices(List.of(new GeneratedChoice(0, List.of(727, 555, 370, 428, 561), "length")))
        .setTimings(null)
        .setProducer("worker-test")
        .build();
  }
}
