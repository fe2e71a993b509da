package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.schemas.RequestSpec;
import java.util.Map;

/**
 * What a call to a generation endpoint asks for: the job, and how its answer is to be delivered.
 *
 * @param stream answer with Server-Sent Events as the text is generated, not with one JSON body at the end
 * @param includeUsage {@code stream_options.include_usage}: end the stream with a chunk carrying the usage
 */
record GenerationCall(RequestSpec spec, boolean stream, boolean includeUsage) {
  /** An endpoint's body reader: strict, thread-safe, failing with the {@link ApiError} of the first problem. */
  interface Reader {
    GenerationCall read(byte[] body);
  }

  /** {@code spec} with {@code stream} and {@code stream_options} as the body says, the same on every endpoint. */
  static GenerationCall of(JsonBody body, RequestSpec spec) {
    boolean stream = Boolean.TRUE.equals(body.bool("stream"));
    JsonNode options = body.present("stream_options");
    if (options == null) {
      return new GenerationCall(spec, stream, false);
    }
    if (!options.isObject()) {
      throw JsonBody.wrongType("stream_options", "an object", options);
    }
    if (!stream) {
      // As OpenAI: options for a stream that is not asked for are a mistake, not a no-op.
      throw ApiError.invalid("stream_options", "invalid_value",
          "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
    }
    boolean includeUsage = false;
    for (Map.Entry<String, JsonNode> option : options.properties()) {
      String name = "stream_options." + JsonBody.shown(option.getKey());
      if (!option.getKey().equals("include_usage")) {
        throw ApiError.invalid(name, "unknown_parameter", "Unrecognized request argument supplied: " + name);
      }
      JsonNode v = option.getValue();
      if (!v.isNull() && !v.isBoolean()) {
        throw JsonBody.wrongType(name, "a boolean", v);
      }
      includeUsage = v.isBoolean() && v.booleanValue();
    }
    return new GenerationCall(spec, true, includeUsage);
  }
}
