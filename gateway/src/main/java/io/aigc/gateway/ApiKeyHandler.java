package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything under {@code /v1/}: who is calling ({@code Authorization: Bearer <key>}, OpenAI's way), and whether
 * that caller is within its rate limit. Answers 401 without a configured key and 429 over the limit; otherwise
 * records the caller's key name for the handlers ({@link #caller}) and counts the request under that name.
 *
 * <p>Nothing here logs or echoes a presented key: a key sent by mistake (or an attacker's guess) must not end up in
 * a log line or an error body.
 */
record ApiKeyHandler(ApiKeys keys, RateLimiter limiter, GatewayMetrics metrics) implements Handler<RoutingContext> {
  private static final String CALLER = "aigc.caller";
  /** RFC 6750's b64token: what a bearer token may contain. Anything else is malformed, not just wrong. */
  private static final Pattern BEARER = Pattern.compile("(?i:bearer) +([A-Za-z0-9\\-._~+/]+=*) *");
  /** Client-closed-request, as nginx logs it: the response never ended because the client left. */
  private static final int CLIENT_CLOSED = 499;

  /** The name of the API key the request was made with; null when the gateway serves without keys. */
  static String caller(RoutingContext ctx) {
    return ctx.get(CALLER);
  }

  @Override
  public void handle(RoutingContext ctx) {
    List<String> headers = ctx.request().headers().getAll("Authorization");
    if (headers.isEmpty()) {
      metrics.unauthorized("missing_api_key");
      throw ApiError.missingApiKey();
    }
    // Two headers could each be read as "the" key by different proxies: refuse rather than pick one.
    Optional<String> key = headers.size() == 1 ? bearerToken(headers.get(0)) : Optional.empty();
    if (key.isEmpty()) {
      metrics.unauthorized("invalid_api_key");
      throw ApiError.malformedAuthorization();
    }
    Optional<String> name = keys.nameOf(key.get());
    if (name.isEmpty()) {
      metrics.unauthorized("invalid_api_key");
      throw ApiError.invalidApiKey();
    }
    String caller = name.get();
    ctx.put(CALLER, caller);
    ctx.addEndHandler(ended ->
        metrics.keyRequest(caller, ended.succeeded() ? ctx.response().getStatusCode() : CLIENT_CLOSED));
    long waitNanos = limiter.acquire(caller);
    if (waitNanos > 0) {
      metrics.rejected("rate_limit");
      throw ApiError.rateLimited(limiter.rate(), limiter.burst(), (int) Math.max(1, Math.min(Integer.MAX_VALUE,
          Math.ceil(waitNanos / 1e9))));
    }
    ctx.next();
  }

  private static Optional<String> bearerToken(String header) {
    var m = BEARER.matcher(header);
    return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
  }
}
