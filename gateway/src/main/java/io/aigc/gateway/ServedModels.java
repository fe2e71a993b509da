package io.aigc.gateway;

import java.util.List;

/**
 * The models this gateway serves, as {@code GET /v1/models} lists them and as a request's {@code model} is checked
 * against them. One today ({@code AIGC_MODEL_NAME}); a list, so that serving several changes no caller.
 *
 * @param ids the names requests may use, the default (what a request without {@code model} gets) first
 * @param created when this gateway started serving them, in seconds since the epoch (OpenAI's {@code created})
 */
record ServedModels(List<String> ids, long created) {
  static final String OWNED_BY = "aigc";

  ServedModels {
    ids = List.copyOf(ids);
    if (ids.isEmpty()) {
      throw new IllegalArgumentException("a gateway serves at least one model");
    }
  }

  static ServedModels of(String id, long created) {
    return new ServedModels(List.of(id), created);
  }

  boolean serves(String id) {
    return ids.contains(id);
  }

  /** The name answers use when the pipeline did not say. */
  String defaultId() {
    return ids.get(0);
  }

  /** {@code model} from a request body, when this gateway serves it; else a 404 naming what it serves. */
  void check(String model) {
    if (model != null && !serves(model)) {
      throw ApiError.modelNotFound("model", "The model '" + JsonBody.shown(model) + "' does not exist. This server "
          + "serves " + served() + ".");
    }
  }

  /** The 404 for {@code GET /v1/models/{id}} of a model not served; OpenAI names the parameter "model" there too. */
  ApiError notFound(String id) {
    return ApiError.modelNotFound("model", "The model '" + JsonBody.shown(id) + "' does not exist. This server serves "
        + served() + ".");
  }

  private String served() {
    return ids.size() == 1 ? "'" + ids.get(0) + "'" : "'" + String.join("', '", ids) + "'";
  }
}
