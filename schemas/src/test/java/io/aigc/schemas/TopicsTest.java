package io.aigc.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void defaultsToTheDocumentedNames() {
    Topics topics = Topics.defaults();
    assertThat(topics.all(List.of("tiny-llama", "tiny-gpt2"))).extracting(Topic::name).containsExactly(
        "generation.requests", "generation.generated", "generation.completions", "generation.dlq",
        "generation.cancellations", "generation.stream", "generation.tokenized.tiny-llama",
        "generation.tokenized.tiny-gpt2");
  }

  @Test
  void eachModelHasATokenizedTopicNamedAfterThePrefix() {
    Topics topics = Topics.fromEnvironment(Map.of("AIGC_TOPIC_TOKENIZED", "tenant-a.tokenized"));
    assertThat(topics.tokenized("tiny-gpt2").name()).isEqualTo("tenant-a.tokenized.tiny-gpt2");
    assertThat(topics.tokenized("tiny-gpt2").valueSerde().type()).isEqualTo(TokenizedRequest.class);
  }

  @Test
  void eachNameCanBeOverriddenFromTheEnvironment() {
    Topics topics = Topics.fromEnvironment(
        Map.of("AIGC_TOPIC_REQUESTS", "tenant-a.requests", "AIGC_TOPIC_DLQ", "tenant-a.dlq"));
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
