package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.GenerationError;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.Tasks;
import io.aigc.schemas.Usage;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ApiShapesTest {
  static ApiShapes.Read read(String method, String url, String body) {
    return ApiShapes.read(method, url, body.getBytes(StandardCharsets.UTF_8), RequestRules.Limits.NONE,
        Tasks.builtIn());
  }

  @Test
  void aBodyIsReadByItsEndpointsReaderWhateverModelItNames() {
    ApiShapes.Read text = read("POST", "/v1/completions", "{\"prompt\": \"Hi\", \"model\": \"other\", \"n\": 2}");
    ApiShapes.Read chat = read("POST", "/v1/chat/completions",
        "{\"messages\": [{\"role\": \"developer\", \"content\": \"Be brief\"}]}");

    assertThat(text.refused()).isNull();
    assertThat(text.spec().prompt()).isEqualTo("Hi");
    assertThat(text.spec().sampling().n()).isEqualTo(2);
    assertThat(text.model()).isEqualTo("other");
    assertThat(text.chat()).isFalse();
    assertThat(chat.spec().messages().get(0).role()).as("as the chat endpoint reads it").isEqualTo("system");
    assertThat(chat.model()).isNull();
    assertThat(chat.chat()).isTrue();
  }

  @Test
  void whatTheEndpointRefusesIsItsErrorAnswer() {
    ApiShapes.Answer unknownField = read("POST", "/v1/completions", "{\"prompt\": \"Hi\", \"foo\": 1}").refused();
    ApiShapes.Answer wrongPath = read("POST", "/v1/embeddings", "{}").refused();
    ApiShapes.Answer wrongMethod = read("GET", "/v1/completions", "{\"prompt\": \"Hi\"}").refused();
    ApiShapes.Answer streamed = read("POST", "/v1/completions", "{\"prompt\": \"Hi\", \"stream\": true}").refused();

    assertThat(unknownField.status()).isEqualTo(400);
    assertThat(new JsonObject(unknownField.body()).getJsonObject("error").getString("message"))
        .isEqualTo("Unrecognized request argument supplied: foo");
    assertThat(wrongPath.status()).isEqualTo(404);
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(new JsonObject(streamed.body()).getJsonObject("error").getString("param")).isEqualTo("stream");
  }

  @Test
  void aCompletionIsAnsweredAsTheEndpointAnswersIt() {
    Completion ok = Completion.newBuilder().setRequestId("chatcmpl-1").setStatus(CompletionStatus.OK)
        .setModel("tiny-llama").setCreatedAt(2_000).setCompletedAt(3_000)
        .setChoices(List.of(new CompletionChoice(0, " yes", "stop", null))).setUsage(new Usage(3, 1, 4)).build();
    Completion failed = Completion.newBuilder(ok).setStatus(CompletionStatus.ERROR).setChoices(List.of())
        .setError(new GenerationError("context_length_exceeded", "too long")).build();

    ApiShapes.Answer chat = ApiShapes.answer(true, "chatcmpl-1", ok, "tiny-llama");
    ApiShapes.Answer error = ApiShapes.answer(true, "chatcmpl-1", failed, "tiny-llama");

    assertThat(chat.ok()).isTrue();
    JsonObject body = new JsonObject(chat.body());
    assertThat(body.getString("object")).isEqualTo("chat.completion");
    assertThat(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
        .isEqualTo(" yes");
    assertThat(error.status()).isEqualTo(400);
    assertThat(new JsonObject(error.body()).getJsonObject("error").getString("code"))
        .isEqualTo("context_length_exceeded");
    assertThat(ApiShapes.newId(true)).startsWith("chatcmpl-");
    assertThat(ApiShapes.newId(false)).startsWith("cmpl-");
  }
}
