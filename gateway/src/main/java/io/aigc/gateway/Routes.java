package io.aigc.gateway;

import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/** The gateway's routes, in one table: the verticle wires them, metrics label by them, 405s list their methods. */
final class Routes {
  /** Everything under it needs an API key (unless the gateway serves without keys). */
  static final String API = "/v1/";
  static final String COMPLETIONS = "/v1/completions";
  static final String CHAT_COMPLETIONS = "/v1/chat/completions";
  static final String MODELS = "/v1/models";
  /** The rest of the path after {@code /v1/models/}, slashes included: a regular expression's named group. */
  static final String MODEL = "/v1/models/(?<id>.+)";
  static final String MODEL_ID = "id";
  static final String JOBS = "/v1/jobs";
  static final String TASKS = "/v1/tasks";
  static final String JOB = "/v1/jobs/:id";
  // The Batch API (BatchApi wires these).
  static final String FILES = "/v1/files";
  static final String FILE = "/v1/files/:id";
  static final String FILE_CONTENT = "/v1/files/:id/content";
  static final String BATCHES = "/v1/batches";
  static final String BATCH = "/v1/batches/:id";
  static final String BATCH_CANCEL = "/v1/batches/:id/cancel";
  static final String HEALTHZ = "/healthz";
  static final String READYZ = "/readyz";
  static final String METRICS = "/metrics";
  /** The pipeline panel's figures (not OpenAI's; under /v1/ so it takes the same key). */
  static final String PIPELINE = "/v1/pipeline";
  /** The playground page: public, like the probes; the API calls it makes carry the key. */
  static final String PAGE = "/";
  /** The page's scripts and styles, as files under {@code webroot/playground/}. */
  static final String PAGE_FILES = "/playground/";

  /** A route's template as metrics show it, with the method it accepts. */
  private static final Map<String, String> METHODS = Map.ofEntries(
      Map.entry(COMPLETIONS, "POST"),
      Map.entry(CHAT_COMPLETIONS, "POST"),
      Map.entry(MODELS, "GET"),
      Map.entry(TASKS, "GET"),
      Map.entry("/v1/models/{id}", "GET"),
      Map.entry(JOBS, "POST"),
      Map.entry("/v1/jobs/{id}", "GET, DELETE"),
      Map.entry(FILES, "GET, POST"),
      Map.entry("/v1/files/{id}", "GET, DELETE"),
      Map.entry("/v1/files/{id}/content", "GET"),
      Map.entry(BATCHES, "GET, POST"),
      Map.entry("/v1/batches/{id}", "GET"),
      Map.entry("/v1/batches/{id}/cancel", "POST"),
      Map.entry(HEALTHZ, "GET"),
      Map.entry(READYZ, "GET"),
      Map.entry(METRICS, "GET"),
      Map.entry(PIPELINE, "GET"),
      Map.entry(PAGE, "GET"),
      Map.entry("/playground/{file}", "GET"));

  private Routes() {}

  /**
   * The request's path with dot segments and escaped unreserved characters resolved, as routes match it; null when
   * it cannot be resolved (a malformed escape such as {@code %zz}), which Vert.x reports by throwing.
   */
  static String normalizedPath(RoutingContext ctx) {
    try {
      return ctx.normalizedPath();
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The route template {@code path} falls under ({@code /v1/jobs/{id}} for any job, {@code /v1/models/{id}} for any
   * model, {@code /playground/{file}} for any of the page's files), or {@code other}.
   */
  static String template(String path) {
    if (path == null) {
      return "other";
    }
    // Vert.x routes a path with a trailing slash as the path without it.
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (METHODS.containsKey(path)) {
      return path;
    }
    String models = MODELS + "/";
    if (path.startsWith(models) && path.length() > models.length()) {
      return "/v1/models/{id}";
    }
    if (path.startsWith(PAGE_FILES) && path.length() > PAGE_FILES.length()) {
      return "/playground/{file}";
    }
    for (String collection : new String[] {JOBS, FILES, BATCHES}) {
      String prefix = collection + "/";
      if (!path.startsWith(prefix) || path.length() == prefix.length()) {
        continue;
      }
      int slash = path.indexOf('/', prefix.length());
      String rest = slash < 0 ? "" : path.substring(slash);
      String template = collection + "/{id}" + rest;
      if (slash != prefix.length() && METHODS.containsKey(template)) {
        return template;
      }
    }
    return "other";
  }

  /** The value of an {@code Allow} header for {@code path}, or null when no route has that path. */
  static String allowedMethods(String path) {
    return METHODS.get(template(path));
  }
}
