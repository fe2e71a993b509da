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
  static final String HEALTHZ = "/healthz";
  static final String READYZ = "/readyz";
  static final String METRICS = "/metrics";

  /** A route's template as metrics show it, with the method it accepts. */
  private static final Map<String, String> METHODS = Map.of(
      COMPLETIONS, "POST",
      CHAT_COMPLETIONS, "POST",
      MODELS, "GET",
      TASKS, "GET",
      "/v1/models/{id}", "GET",
      JOBS, "POST",
      "/v1/jobs/{id}", "GET, DELETE",
      HEALTHZ, "GET",
      READYZ, "GET",
      METRICS, "GET");

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
   * model), or {@code other}.
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
    String jobs = JOBS + "/";
    if (path.startsWith(jobs) && path.length() > jobs.length() && path.indexOf('/', jobs.length()) < 0) {
      return "/v1/jobs/{id}";
    }
    return "other";
  }

  /** The value of an {@code Allow} header for {@code path}, or null when no route has that path. */
  static String allowedMethods(String path) {
    return METHODS.get(template(path));
  }
}
