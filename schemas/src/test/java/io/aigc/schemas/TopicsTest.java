package io.aigc.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void defaultsToTheDocumentedNames() {
    Topics topics = Topics.defaults();
    assertThat(topics.all()).extracting(Topic::name).containsExactly(
        "generation.requests", "generation.tokenized", "generation.generated", "generation.completions",
        "generation.dlq", "generation.cancellations", "generation.stream");
  }

  @Test
  void eachNameCanBeOverriddenFromTheEnvironment() {
    Topics topics = Topics.fromEnvironment(Map.of(Topics.REQUESTS_ENV, "tenant-a.requests", Topics.DLQ_ENV, "tenant-a.dlq"));
    assertThat(topics.requests().name()).isEqualTo("tenant-a.requests");
    assertThat(topics.dlq().name()).isEqualTo("tenant-a.dlq");
    assertThat(topics.completions().name()).isEqualTo("generation.completions");
  }

  @Test
  void pairsEachTopicWithItsRecordType() {
    Topics topics = Topics.defaults();
    assertThat(topics.requests().valueSerde().type()).isEqualTo(GenerationRequest.class);
    assertThat(topics.completions().valueSerde().type()).isEqualTo(Completion.class);
  }
}
