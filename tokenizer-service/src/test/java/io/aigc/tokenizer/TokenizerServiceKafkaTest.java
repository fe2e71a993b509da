package io.aigc.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.model.testing.TestModels;
import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.streams.StreamsService;
import io.aigc.schemas.testing.AvroBytes;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.runtime.testing.TopicReader;
import io.aigc.schemas.DeadLetter;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.TokenizedRequest;
import io.aigc.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
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
      Env env = kafka.serviceEnv(stateDir, 2, TestModels.modelDirEnv(TestModels.TINY_LLAMA));
      try (StreamsService service = TokenizerTopology.service(TokenizerConfig.fromEnv(env))) {
        service.start();
        KafkaSettings settings = KafkaSettings.fromEnv(env);
        TopicReader.send(settings, List.of(
            new ProducerRecord<>(TOPICS.requests().name(), "r-poison", AvroBytes.notAvro()),
            new ProducerRecord<>(TOPICS.requests().name(), "r-1", TOPICS.requests().valueSerde().encode(
                RequestSpec.builder().prompt("This License applies to any program").build()
                    .toEvent("r-1", Instant.now(), null)))));

        List<String> topics = List.of(TOPICS.tokenized("tiny-llama").name(), TOPICS.generated().name(), TOPICS.dlq().name());
        List<ConsumerRecord<String, byte[]>> seen = TopicReader.readCommittedUntil(settings, topics,
            records -> topics.stream().allMatch(t -> !TopicReader.of(t, records).isEmpty()));

        ConsumerRecord<String, byte[]> tokenizedRecord = TopicReader.of(TOPICS.tokenized("tiny-llama").name(), seen).get(0);
        TokenizedRequest tokenized = TOPICS.tokenized("tiny-llama").valueSerde().decode(tokenizedRecord.value());
        assertThat(tokenizedRecord.key()).isEqualTo("r-1");
        assertThat(tokenized.getPromptTokenIds()).containsExactly(1, 752, 400, 727, 555, 370, 428, 561);

        GeneratedSequence error = TOPICS.generated().valueSerde().decode(
            TopicReader.of(TOPICS.generated().name(), seen).get(0).value());
        assertThat(error.getRequest().getRequestId()).isEqualTo("r-poison");
        assertThat(error.getError().getCode()).isEqualTo("poison_record");

        DeadLetter letter = TOPICS.dlq().valueSerde().decode(TopicReader.of(TOPICS.dlq().name(), seen).get(0).value());
        assertThat(letter.getReasonCode()).isEqualTo("not_avro");
        assertThat(letter.getSourceTopic()).isEqualTo(TOPICS.requests().name());
        assertThat(letter.getRequestId()).isEqualTo("r-poison");

        String metrics = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.metricsPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("aigc_tokenizer_requests_tokenized_total 1.0")
            .contains("aigc_dead_letters_total{reason=\"not_avro\",service=\"tokenizer-service\"} 1.0");
        assertThat(service.ready()).isTrue();
      }
      // Closed (as on SIGTERM), the service has left its group: its tasks move at once, not after a session timeout.
      try (Admin admin = Admin.create(KafkaSettings.fromEnv(env).admin("test"))) {
        assertThat(admin.describeConsumerGroups(List.of("aigc-tokenizer")).describedGroups().get("aigc-tokenizer")
            .get().members()).isEmpty();
      }
    }
  }
}
