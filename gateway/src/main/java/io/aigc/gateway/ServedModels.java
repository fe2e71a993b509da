package io.aigc.gateway;

import java.util.List;

/**
 * The models this gateway serves ({@code AIGC_MODEL_DIR}'s folder names), as {@code GET /v1/models} lists them and
 * as a request's {@code model} is checked against them.
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

  static ServedModels of(List<String> ids, long created) {
    return new ServedModels(ids, created);
  }

  boolean serves(String id) {
    return ids.contains(id);
  }

  /** The name answers use when the pipeline did not say. */
  String defaultId() {
    return ids.get(0);
  }

  /**
   * The model a request body names ({@code model}), or the default when it names none; a 404 naming what this
   * gateway serves when it does not serve it.
   */
  String check(String model) {
    if (model == null) {
      return defaultId();
    }
    if (!serves(model)) {
      throw ApiError.modelNotFound("model", "The model '" + JsonBody.shown(model) + "' does not exist. This server "
          + "serves " + served() + ".");
    }
    return model;
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
