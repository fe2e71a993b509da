package io.aigc.cli;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.Topics;

/**
 * What the command line reads from the environment: how to reach Kafka ({@code KAFKA_BOOTSTRAP_SERVERS},
 * {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_*}, {@code KAFKA_SSL_*}, {@code KAFKA_CLIENT_CONFIG_FILE}) and
 * the topic names ({@code AIGC_TOPIC_*}), read as every service reads them. It creates no topics: the pipeline owns
 * them.
 */
record CliConfig(KafkaSettings kafka, Topics topics) {
  static CliConfig fromEnv(Env env) {
    return new CliConfig(KafkaSettings.fromEnv(env), Topics.fromEnvironment(env::optional));
  }
}
