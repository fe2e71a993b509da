package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * The headers of the playground page and its files. The page shows text a model wrote, which is never trusted:
 * besides the page inserting it only as text, the Content-Security-Policy lets the page run nothing but its own
 * files (no inline script or style, no {@code eval}), talk to nothing but this gateway, and be framed by nobody.
 * No cookie is involved (the page keeps the API key in the tab's session storage and sends it as a header), so the
 * API itself needs nothing more.
 */
final class PageHeadersHandler implements Handler<RoutingContext> {
  static final String CONTENT_SECURITY_POLICY = String.join("; ",
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'");

  @Override
  public void handle(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Cross-Origin-Opener-Policy", "same-origin")
        .putHeader("Cross-Origin-Resource-Policy", "same-origin")
        // Small files that change with the gateway's version: always ask, never serve a stale script.
        .putHeader("Cache-Control", "no-cache");
    ctx.next();
  }
}
