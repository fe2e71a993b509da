package io.aigc.cli;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.Tasks;
import io.aigc.schemas.Topics;

/**
 * What the command line reads from the environment: how to reach Kafka ({@code KAFKA_BOOTSTRAP_SERVERS},
 * {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_*}, {@code KAFKA_SSL_*}, {@code KAFKA_CLIENT_CONFIG_FILE}) and
 * the topic names ({@code AIGC_TOPIC_*}), read as every service reads them, and the named tasks
 * ({@code AIGC_TASKS_FILE}, the operator's file the gateway reads, beside the built-in ones), so a batch line is
 * judged as the gateway would judge it. It creates no topics: the pipeline owns them.
 */
record CliConfig(KafkaSettings kafka, Topics topics, Tasks tasks) {
  static CliConfig fromEnv(Env env) {
    return new CliConfig(KafkaSettings.fromEnv(env), Topics.fromEnvironment(env::optional),
        Tasks.load(env.path("AIGC_TASKS_FILE", null)));
  }
}
