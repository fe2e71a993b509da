package io.aigc.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.schemas.Topic;
import io.aigc.schemas.Topics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;

class TopicSetupTest {

  @Test
  void createsMissingTopicsOnceOnARealBroker() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Env env = Env.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "AIGC_TOPIC_PARTITIONS", "3"));
      Topics topics = Topics.defaults();
      List<Topic<?>> all = topics.all(List.of("tiny-llama"));
      try (Admin admin = Admin.create(KafkaSettings.fromEnv(env).admin("test"))) {
        TopicSetup setup = TopicSetup.fromEnv(env);
        setup.ensure(admin, all);
        setup.ensure(admin, all); // a second service starting finds them all present

        Map<String, TopicDescription> described =
            admin.describeTopics(all.stream().map(Topic::name).toList()).allTopicNames().get();
        assertThat(described).containsOnlyKeys(all.stream().map(Topic::name).toList());
        assertThat(described.get("generation.requests").partitions()).hasSize(3);
      }
    }
  }
}
