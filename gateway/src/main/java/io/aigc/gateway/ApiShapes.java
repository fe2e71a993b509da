package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.RequestRules;
import io.aigc.schemas.Tasks;
import io.aigc.schemas.RequestSpec;
import java.io.IOException;

/**
 * The HTTP API's request bodies and answers, for clients that publish to Kafka themselves (the {@code aigc} command
 * line's batch). A body is read by the very readers the endpoints use, so a line the gateway would refuse is refused
 * with the same error, and a completion is shaped as the endpoint answers it. The only public door into the gateway:
 * everything behind it stays package-private.
 */
public final class ApiShapes {
  public static final String COMPLETIONS = "/v1/completions";
  public static final String CHAT_COMPLETIONS = "/v1/chat/completions";
  private static final JsonMapper JSON = new JsonMapper();

  private ApiShapes() {}

  /** An HTTP answer: its status and its JSON body. */
  public record Answer(int status, String body) {
    public boolean ok() {
      return status == 200;
    }
  }

  /**
   * A body read for an endpoint: the request, or the answer the endpoint would give instead.
   *
   * @param model the body's {@code model}, or null; not checked here (the pipeline answers an unknown one with
   *     {@code model_not_found}, as the gateway does)
   * @param chat whether it came for {@code /v1/chat/completions}
   * @param refused the gateway's error answer (a 400 naming the problem), or null when the body is valid
   */
  public record Read(RequestSpec spec, String model, boolean chat, Answer refused) {}

  /**
   * Reads {@code body} as {@code method} {@code url} would be read, under {@code limits}, with {@code tasks} the named
   * tasks there are (the gateway's: the built-in ones and the operator's file). Streaming is refused: its answer is a
   * stream of events, which has no place in a file of answers.
   */
  public static Read read(String method, String url, byte[] body, RequestRules.Limits limits, Tasks tasks) {
    boolean chat = CHAT_COMPLETIONS.equals(url);
    try {
      if (!chat && !COMPLETIONS.equals(url)) {
        throw ApiError.fromHttpStatus(404, method, String.valueOf(url), Long.MAX_VALUE);
      }
      if (!"POST".equals(method)) {
        throw ApiError.fromHttpStatus(405, String.valueOf(method), url, Long.MAX_VALUE);
      }
      String model = peekModel(body);
      // The served models are the pipeline's to check: whatever the body names passes here.
      ServedModels any = ServedModels.of(model == null ? "-" : model, 0);
      GenerationCall call = (chat ? new ChatCompletionsBody(any, limits) : new CompletionsBody(any, limits, tasks))
          .read(body);
      if (call.stream()) {
        throw CompletionsBody.unsupported("stream", "'stream' is not supported here: each answer is written whole.");
      }
      // A body that names no model gets the pipeline's default, which only the pipeline knows: the stand-in goes.
      RequestSpec spec = model == null ? call.spec().toBuilder().model(null).build() : call.spec();
      return new Read(spec, model, chat, null);
    } catch (ApiError e) {
      return new Read(null, null, chat, new Answer(e.status(), JsonViews.error(e).encode()));
    }
  }

  /** A new job id as the endpoint makes them ({@code cmpl-} or {@code chatcmpl-} and 24 random characters). */
  public static String newId(boolean chat) {
    return (chat ? ResponseFormat.CHAT : ResponseFormat.TEXT).newId();
  }

  /**
   * The answer the endpoint gives for job {@code id}'s completion: 200 with a {@code text_completion} or
   * {@code chat.completion}, or the error a failed job is answered with.
   */
  public static Answer answer(boolean chat, String id, Completion completion, String servedModel) {
    if (completion.getStatus() != CompletionStatus.OK) {
      ApiError error = ApiError.fromPipeline(id, completion.getError());
      return new Answer(error.status(), JsonViews.error(error).encode());
    }
    ResponseFormat format = chat ? ResponseFormat.CHAT : ResponseFormat.TEXT;
    return new Answer(200, format.completion(completion, servedModel).encode());
  }

  /** The body's {@code model} if it is a string; the strict reader reports anything else wrong with it. */
  private static String peekModel(byte[] body) {
    try {
      JsonNode model = JSON.readTree(body).get("model");
      return model != null && model.isTextual() ? model.textValue() : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
