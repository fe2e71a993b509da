package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/**
 * Refuses (415) a JSON body declared in a charset other than UTF-8. JSON's media type defines no
 * charset (RFC 8259: JSON between systems is UTF-8), so {@code charset=utf-8} is accepted as the no-op it is, but a
 * body declared as, say, ISO-8859-1 would be read as something the client did not send.
 */
final class JsonCharsetHandler implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    String contentType = ctx.request().getHeader("Content-Type");
    if (contentType != null) {
      String[] parts = contentType.split(";");
      for (int i = 1; i < parts.length; i++) {
        String parameter = parts[i].strip();
        int eq = parameter.indexOf('=');
        if (eq > 0 && parameter.substring(0, eq).strip().equalsIgnoreCase("charset")) {
          String charset = unquote(parameter.substring(eq + 1).strip());
          String normalized = charset.toLowerCase(Locale.ROOT);
          if (!normalized.equals("utf-8") && !normalized.equals("utf8")) {
            throw ApiError.unsupportedCharset(charset.length() > 40 ? charset.substring(0, 40) + "..." : charset);
          }
        }
      }
    }
    ctx.next();
  }

  private static String unquote(String value) {
    return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
        ? value.substring(1, value.length() - 1) : value;
  }
}
