package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.runtime.Env;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.model.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Kafka security settings reach every client of every service: against a broker that accepts only SASL
 * authenticated clients, the pipeline becomes ready and completes a request only if every producer, consumer,
 * admin client, Streams instance and broadcast reader authenticated with the configured credentials.
 */
class SaslPipelineTest {

  @Test
  void thePipelineRunsAgainstABrokerThatRequiresSasl() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.startWithSasl()) {
      Map<String, String> vars = new HashMap<>(kafka.env());
      vars.putAll(EmbeddedKafka.saslEnv());
      vars.putAll(Map.of(
          "AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(),
          "AIGC_AUTH", "none",
          "AIGC_HTTP_PORT", "0",
          "AIGC_TOKENIZER_METRICS_PORT", "0",
          "AIGC_WORKER_METRICS_PORT", "0",
          "AIGC_POSTPROCESSOR_METRICS_PORT", "0",
          "AIGC_STATE_DIR", Files.createTempDirectory("aigc-sasl").toString(),
          "AIGC_TOPIC_PARTITIONS", "2"));
      try (LocalPipeline pipeline = LocalPipeline.start(Env.of(vars))) {
        await().atMost(Duration.ofSeconds(90)).until(pipeline::ready);
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + pipeline.gatewayPort() + "/v1/completions"))
            .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"You may make and give copies\", "
                + "\"max_tokens\": 8, \"temperature\": 0}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(response.body()).at("/usage/completion_tokens").asInt()).isPositive();
      }
    }
  }
}
