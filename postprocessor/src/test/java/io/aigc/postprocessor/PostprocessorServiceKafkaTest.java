package io.aigc.postprocessor;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.streams.StreamsService;
import io.aigc.schemas.testing.AvroBytes;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.runtime.testing.TopicReader;
import io.aigc.model.testing.TestModels;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.GeneratedChoice;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Topics;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
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
      // One partition, so the records below are processed in the order they are sent.
      Env env = kafka.serviceEnv(stateDir, 1, TestModels.modelDirEnv(TestModels.TINY_LLAMA));

      try (StreamsService service = CompletionTopology.service(PostprocessorConfig.fromEnv(env))) {
        service.start();
        KafkaSettings settings = KafkaSettings.fromEnv(env);
        byte[] result = TOPICS.generated().valueSerde().encode(sequence("r-1"));
        TopicReader.send(settings, List.of(
            new ProducerRecord<>(TOPICS.generated().name(), "r-1", result),
            new ProducerRecord<>(TOPICS.generated().name(), "r-1", result), // a worker's retry
            new ProducerRecord<>(TOPICS.generated().name(), "r-poison", AvroBytes.notAvro())));

        // The poison record is the last one sent: once its answer is visible, the duplicate was processed too.
        List<ConsumerRecord<String, byte[]>> seen = TopicReader.readCommittedUntil(settings,
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

  private static GeneratedSequence sequence(String id) {
    GenerationRequest request = RequestSpec.builder().prompt("This License").sampling(s -> s.maxTokens(5)).build()
        .toEvent(id, Instant.now(), null);
    return GeneratedSequence.newBuilder()
        .setRequest(request)
        .setModel("tiny-llama")
        .setPromptTokenIds(List.of(1, 752, 400))
        .setStatus(CompletionStatus.OK)
        .setError(null)
        .setChoices(List.of(new GeneratedChoice(0, List.of(727, 555, 370, 428, 561), "length", null)))
        .setTimings(null)
        .setProducer("worker-test")
        .build();
  }
}
