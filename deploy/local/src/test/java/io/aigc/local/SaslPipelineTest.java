package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.runtime.testing.EmbeddedKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
    Map<String, String> vars = new HashMap<>(EmbeddedKafka.saslEnv());
    vars.put("AIGC_TOPIC_PARTITIONS", "2");
    try (TestPipeline pipeline = TestPipeline.start(EmbeddedKafka.startWithSasl(), vars)) {
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + pipeline.gatewayPort() + "/v1/completions"))
          .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + pipeline.apiKey())
          .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"You may make and give copies\", "
              + "\"max_tokens\": 8, \"temperature\": 0}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(new ObjectMapper().readTree(response.body()).at("/usage/completion_tokens").asInt()).isPositive();
    }
  }
}
