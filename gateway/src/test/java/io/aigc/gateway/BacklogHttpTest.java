package io.aigc.gateway;

import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.error;
import static io.aigc.gateway.TestHttp.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aigc.schemas.Topics;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backlog bound against a real broker. Nothing consumes the pipeline's topics but the test, which plays the
 * tokenizer and the workers by committing their groups' offsets: lag builds, the gateway turns to 429 past the
 * bound, and accepts again as the lag drains.
 */
@Timeout(60)
class BacklogHttpTest {
  private static final int MAX_BACKLOG = 5;
  private static final String ALICE = bearer(TestKeys.ALICE);
  private static final String BACKLOG = "aigc_gateway_backlog";

  @RegisterExtension
  static final GatewayFixture fixture = GatewayFixture.gatewayOnly().env(Map.of(
      "AIGC_MAX_BACKLOG", Integer.toString(MAX_BACKLOG), "AIGC_BACKLOG_INTERVAL", "100ms"));

  @Test
  void refusesNewRequestsPastTheBoundUntilThePipelineCatchesUp() throws Exception {
    Topics topics = Topics.defaults();
    awaitBacklog(0);

    // Four requests wait for the tokenizer, three tokenized ones for a worker: 7, over the bound of 5.
    String first = submit("one", "order-1");
    submit("two", null);
    submit("three", null);
    submit("four", null);
    produce(topics.tokenized("tiny-llama").name(), 3);
    awaitBacklog(7);

    HttpResponse<String> refused = fixture.post("/v1/jobs", body("five"), "Authorization", ALICE);
    JsonObject error = error(refused, 429);
    assertThat(error.getString("type")).isEqualTo("rate_limit_error");
    assertThat(error.getString("code")).isEqualTo("rate_limit_exceeded");
    assertThat(error.getString("message")).contains("7 requests are waiting").contains("(" + MAX_BACKLOG + ")");
    // Nothing drained yet: the longest wait.
    assertThat(refused.headers().firstValue("Retry-After")).hasValue(Integer.toString(Backlog.MAX_RETRY_AFTER_SECONDS));
    error(fixture.post("/v1/completions", body("five, waiting"), "Authorization", ALICE), 429);
    assertThat(fixture.metric("aigc_gateway_rejected_total{reason=\"backlog\"}")).isEqualTo(2);

    // What adds no work is still served: polls, and the retry of a job already queued.
    assertThat(json(fixture.get("/v1/jobs/" + first, "Authorization", ALICE), 200).getString("status"))
        .isEqualTo("queued");
    HttpResponse<String> retry = fixture.post("/v1/jobs", body("one"), "Authorization", ALICE,
        "Idempotency-Key", "order-1");
    assertThat(json(retry, 202).getString("id")).isEqualTo(first);
    assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");

    // The workers take the three tokenized requests: 4 left, under the bound again.
    fixture.commitToEnd("aigc-inference-worker.tiny-llama", topics.tokenized("tiny-llama").name());
    awaitBacklog(4);
    submit("five, again", null);
    awaitBacklog(5);
    // At the bound is not past it.
    submit("six", null);
    awaitBacklog(6);
    error(fixture.post("/v1/jobs", body("seven"), "Authorization", ALICE), 429);

    // The tokenizer takes everything: nothing waits.
    fixture.commitToEnd("aigc-tokenizer", topics.requests().name());
    awaitBacklog(0);
    submit("seven, again", null);
  }

  private static String submit(String prompt, String idempotencyKey) throws Exception {
    HttpResponse<String> response = idempotencyKey == null
        ? fixture.post("/v1/jobs", body(prompt), "Authorization", ALICE)
        : fixture.post("/v1/jobs", body(prompt), "Authorization", ALICE, "Idempotency-Key", idempotencyKey);
    return json(response, 202).getString("id");
  }

  private static void awaitBacklog(long requests) {
    await().atMost(Duration.ofSeconds(15)).until(() -> fixture.metric(BACKLOG), v -> v == requests);
  }

  /** Records on {@code topic} as the tokenizer would write them; the gateway counts them, never reads them. */
  private static void produce(String topic, int count) throws Exception {
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(fixture.settings().producer("backlog-test"),
        new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < count; i++) {
        producer.send(new ProducerRecord<>(topic, "cmpl-tokenized-" + i, new byte[] {1})).get();
      }
    }
  }

  private static String body(String prompt) {
    return new JsonObject().put("prompt", prompt).put("max_tokens", 4).encode();
  }
}
