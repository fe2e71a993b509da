package io.aigc.gateway;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /v1/files} and {@code /v1/batches} on a gateway that holds no files or batches: each request goes on, body
 * streamed and unread, to the gateway that holds them ({@code AIGC_BATCH_GATEWAY_URL}), and its answer comes back
 * as it was given. Files and batches live in one gateway's data folder, while interactive gateways scale out behind
 * one address; this lets that address serve the whole API, for OpenAI's clients take one base URL. The API key is
 * checked here, and again there, where it also decides whose files and batches the caller sees.
 */
record BatchForwarding(HttpClient client, URI origin) implements BatchRoutes {
  private static final Logger log = LoggerFactory.getLogger(BatchForwarding.class);
  /** Headers about one connection, not the request (RFC 9110, 7.6.1), and the host, which is the origin's now. */
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
      "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host");
  /** An upload or a download that stalls this long is cut: the caller's connection, not the origin, is slow. */
  private static final long IDLE_TIMEOUT_MS = 60_000;

  @Override
  public void mount(Router router, Handler<RoutingContext> json, Handler<RoutingContext> utf8) {
    // No body handler on these routes: the body streams through as it arrives.
    for (String path : List.of(Routes.FILES, Routes.FILES + "/*", Routes.BATCHES, Routes.BATCHES + "/*")) {
      router.route(path).handler(this::forward);
    }
  }

  private void forward(RoutingContext ctx) {
    HttpServerRequest in = ctx.request();
    in.pause();
    boolean https = "https".equals(origin.getScheme());
    RequestOptions options = new RequestOptions().setMethod(in.method()).setHost(origin.getHost())
        .setPort(origin.getPort() > 0 ? origin.getPort() : https ? 443 : 80).setSsl(https).setURI(in.uri())
        .setIdleTimeout(IDLE_TIMEOUT_MS).setHeaders(endToEnd(in.headers()));
    boolean hasBody = in.headers().contains(HttpHeaders.CONTENT_LENGTH)
        || in.headers().contains(HttpHeaders.TRANSFER_ENCODING);
    if (!hasBody) {
      // Nothing to stream: let the request end here, as it would without the pause.
      in.resume();
    }
    client.request(options)
        .compose(out -> hasBody ? out.send(in) : out.send())
        .compose(answer -> relay(answer, ctx.response()))
        .onFailure(e -> {
          if (ctx.response().headWritten()) {
            // Part of the answer is out: all that is left is to end the connection, so the caller sees it cut.
            ctx.response().reset();
          } else {
            log.warn("could not forward {} {} to {}: {}", in.method(), in.path(), origin, e.toString());
            ctx.fail(ApiError.batchGatewayUnreachable(e));
          }
        });
  }

  private static Future<Void> relay(HttpClientResponse answer, HttpServerResponse out) {
    out.setStatusCode(answer.statusCode());
    out.headers().addAll(endToEnd(answer.headers()));
    return out.send(answer);
  }

  private static MultiMap endToEnd(MultiMap headers) {
    MultiMap kept = MultiMap.caseInsensitiveMultiMap();
    headers.forEach((name, value) -> {
      if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
        kept.add(name, value);
      }
    });
    return kept;
  }
}
