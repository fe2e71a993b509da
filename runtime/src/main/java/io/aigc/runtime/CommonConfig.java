package io.aigc.runtime;

import io.aigc.schemas.Topics;

/**
 * What every service reads the same way: how to reach Kafka ({@code KAFKA_*}), the topic names
 * ({@code AIGC_TOPIC_*}) and whether and how to create them ({@code AIGC_CREATE_TOPICS},
 * {@code AIGC_TOPIC_PARTITIONS}, {@code AIGC_TOPIC_REPLICATION}), and where traces go
 * ({@code OTEL_EXPORTER_OTLP_ENDPOINT}).
 */
public record CommonConfig(KafkaSettings kafka, Topics topics, TopicSetup topicSetup, TracingSettings tracing) {
  public static CommonConfig fromEnv(Env env) {
    return new CommonConfig(KafkaSettings.fromEnv(env), Topics.fromEnvironment(env::optional), TopicSetup.fromEnv(env),
        TracingSettings.fromEnv(env));
  }
}
