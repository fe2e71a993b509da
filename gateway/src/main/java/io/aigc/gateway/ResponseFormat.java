package io.aigc.gateway;

import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.TextLogprob;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How one endpoint shapes its answers, whole or streamed: {@link #TEXT} for {@code /v1/completions}
 * ({@code text_completion}), {@link #CHAT} for {@code /v1/chat/completions} ({@code chat.completion} and
 * {@code chat.completion.chunk}). A {@link Completion} does not say which endpoint asked for it; the handler does.
 *
 * <p>Log-probabilities as OpenAI writes them: legacy {@code {tokens, token_logprobs, top_logprobs, text_offset}} for
 * text, {@code {content: [{token, logprob, bytes, top_logprobs}]}} for chat. {@code -Infinity} (a token the sampler
 * excluded) is written as -9999.0, as OpenAI and vLLM do, since JSON has no infinity. Text offsets count code points
 * of the generated text (as Python's {@code len} does in vLLM), from 0 at its first character: the gateway does not
 * know what the prompt became after templating.
 */
enum ResponseFormat {
  TEXT("cmpl-", "text_completion", "text_completion") {
    @Override
    JsonObject choice(int index, String text, JsonObject logprobs, String finishReason) {
      return new JsonObject().put("text", text).put("index", index).put("logprobs", logprobs)
          .put("finish_reason", finishReason);
    }

    @Override
    JsonObject delta(int index, String text, JsonObject logprobs, String finishReason) {
      return choice(index, text, logprobs, finishReason);
    }

    @Override
    JsonObject logprobs(List<TextLogprobs> tokens, int textOffset) {
      JsonArray texts = new JsonArray();
      JsonArray logprobs = new JsonArray();
      JsonArray tops = new JsonArray();
      JsonArray offsets = new JsonArray();
      int offset = textOffset;
      for (TextLogprobs token : tokens) {
        texts.add(token.getToken());
        logprobs.add(finite(token.getLogprob()));
        JsonObject top = new JsonObject();
        // Two alternatives may decode to the same text: the likelier, listed first, keeps the key.
        for (TextLogprob alternative : token.getTop()) {
          if (!top.containsKey(alternative.getToken())) {
            top.put(alternative.getToken(), finite(alternative.getLogprob()));
          }
        }
        tops.add(top);
        offsets.add(offset);
        offset += codePoints(token.getToken());
      }
      return new JsonObject().put("tokens", texts).put("token_logprobs", logprobs).put("top_logprobs", tops)
          .put("text_offset", offsets);
    }
  },

  CHAT("chatcmpl-", "chat.completion", "chat.completion.chunk") {
    @Override
    JsonObject choice(int index, String text, JsonObject logprobs, String finishReason) {
      return new JsonObject().put("index", index)
          .put("message", new JsonObject().put("role", "assistant").put("content", text))
          .put("logprobs", logprobs).put("finish_reason", finishReason);
    }

    @Override
    JsonObject delta(int index, String text, JsonObject logprobs, String finishReason) {
      // A choice's last chunk may add no text: OpenAI sends an empty delta with the finish_reason then.
      JsonObject delta = text.isEmpty() && finishReason != null ? new JsonObject()
          : new JsonObject().put("content", text);
      return new JsonObject().put("index", index).put("delta", delta).put("logprobs", logprobs)
          .put("finish_reason", finishReason);
    }

    @Override
    JsonObject logprobs(List<TextLogprobs> tokens, int textOffset) {
      JsonArray content = new JsonArray();
      for (TextLogprobs token : tokens) {
        JsonArray top = new JsonArray();
        for (TextLogprob alternative : token.getTop()) {
          top.add(tokenLogprob(alternative.getToken(), alternative.getLogprob()));
        }
        content.add(tokenLogprob(token.getToken(), token.getLogprob()).put("top_logprobs", top));
      }
      return new JsonObject().put("content", content);
    }

    @Override
    JsonObject roleChunk(Chunks chunks, int index) {
      return chunks.chunk(new JsonObject().put("index", index)
          .put("delta", new JsonObject().put("role", "assistant").put("content", ""))
          .putNull("logprobs").putNull("finish_reason"));
    }
  };

  private final String idPrefix;
  private final String object;
  private final String chunkObject;

  ResponseFormat(String idPrefix, String object, String chunkObject) {
    this.idPrefix = idPrefix;
    this.object = object;
    this.chunkObject = chunkObject;
  }

  /** How OpenAI's ids for this kind of answer begin. */
  String idPrefix() {
    return idPrefix;
  }

  /** A new job id, prefixed as OpenAI's ids for this kind of answer are. */
  String newId() {
    return JobIds.random(idPrefix);
  }

  /** The whole answer, from the job's completion. */
  JsonObject completion(Completion c, String servedModel) {
    JsonArray choices = new JsonArray();
    for (CompletionChoice choice : c.getChoices()) {
      List<TextLogprobs> logprobs = choice.getLogprobs();
      choices.add(choice(choice.getIndex(), choice.getText(), logprobs == null ? null : logprobs(logprobs, 0),
          choice.getFinishReason()));
    }
    return new JsonObject()
        .put("id", c.getRequestId())
        .put("object", object)
        .put("created", c.getCreatedAt() / 1000)
        .put("model", c.getModel() == null ? servedModel : c.getModel())
        .put("choices", choices)
        .put("usage", usage(c.getUsage()));
  }

  /** The chunks of one streamed answer: they share its id, creation time and model. */
  Chunks chunks(String id, long createdSeconds, String model, boolean includeUsage) {
    return new Chunks(this, id, createdSeconds, model, includeUsage);
  }

  /**
   * One streamed answer's chunks.
   *
   * @param includeUsage every chunk has {@code "usage": null} and the last one the usage, as OpenAI streams with
   *     {@code stream_options.include_usage}
   */
  record Chunks(ResponseFormat format, String id, long created, String model, boolean includeUsage) {
    /** The text a choice added, with its tokens' log-probabilities (or null) and, on its last chunk, why it ended. */
    JsonObject text(int index, String text, List<TextLogprobs> logprobs, int textOffset, String finishReason) {
      return chunk(format.delta(index, text, logprobs == null ? null : format.logprobs(logprobs, textOffset),
          finishReason));
    }

    /** What goes before a choice's first text: chat announces the assistant's role; text has nothing. */
    JsonObject start(int index) {
      return format.roleChunk(this, index);
    }

    /** The last chunk with {@code include_usage}: no choices, and the usage of them all. */
    JsonObject usage(Usage usage) {
      return header().put("choices", new JsonArray()).put("usage", ResponseFormat.usage(usage));
    }

    JsonObject chunk(JsonObject choice) {
      JsonObject chunk = header().put("choices", new JsonArray().add(choice));
      return includeUsage ? chunk.putNull("usage") : chunk;
    }

    private JsonObject header() {
      return new JsonObject().put("id", id).put("object", format.chunkObject).put("created", created)
          .put("model", model);
    }
  }

  abstract JsonObject choice(int index, String text, JsonObject logprobs, String finishReason);

  abstract JsonObject delta(int index, String text, JsonObject logprobs, String finishReason);

  /** The log-probabilities of {@code tokens}, whose text starts {@code textOffset} code points into the choice's. */
  abstract JsonObject logprobs(List<TextLogprobs> tokens, int textOffset);

  JsonObject roleChunk(Chunks chunks, int index) {
    return null;
  }

  static JsonObject usage(Usage usage) {
    return usage == null ? null : new JsonObject()
        .put("prompt_tokens", usage.getPromptTokens())
        .put("completion_tokens", usage.getCompletionTokens())
        .put("total_tokens", usage.getTotalTokens());
  }

  static int codePoints(String text) {
    return text.codePointCount(0, text.length());
  }

  private static double finite(double logprob) {
    return logprob >= -9999.0 ? logprob : -9999.0;
  }

  private static JsonObject tokenLogprob(String token, double logprob) {
    JsonArray bytes = new JsonArray();
    for (byte b : token.getBytes(StandardCharsets.UTF_8)) {
      bytes.add(b & 0xFF);
    }
    return new JsonObject().put("token", token).put("logprob", finite(logprob)).put("bytes", bytes);
  }
}
