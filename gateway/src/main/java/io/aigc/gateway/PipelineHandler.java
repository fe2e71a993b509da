package io.aigc.gateway;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /v1/pipeline}: what the playground's pipeline panel shows, from the last readings: requests waiting per
 * stage (the consumer lag {@link Backlog} reads), this gateway's jobs, and each service's metrics
 * ({@link PipelineMonitor}): every worker's queue and batch, every service's dead letters, and the recent history of
 * throughput and time to first token. Not part of OpenAI's API; behind the API key like the rest of {@code /v1/}.
 */
record PipelineHandler(Supplier<Backlog.Lag> lag, Supplier<PipelineMonitor.View> monitor, Duration interval,
    IntSupplier inFlight, IntSupplier streamsOpen) implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    Bodies.json(ctx, 200, view(lag.get(), monitor.get(), interval, inFlight.getAsInt(), streamsOpen.getAsInt()));
  }

  static JsonObject view(Backlog.Lag lag, PipelineMonitor.View view, Duration interval, int inFlight,
      int streamsOpen) {
    JsonArray services = new JsonArray();
    double deadLetters = 0;
    for (PipelineMonitor.Target t : view.targets()) {
      JsonObject service = new JsonObject().put("url", t.url().toString()).put("service", t.kind())
          .put("up", t.up()).put("error", t.error()).put("dead_letters", (long) t.deadLetters());
      if (t.worker() != null) {
        PipelineMonitor.Worker w = t.worker();
        service.put("worker", new JsonObject().put("waiting", (long) w.waiting())
            .put("running_requests", (long) w.runningRequests()).put("running_sequences", (long) w.runningSequences())
            .put("mean_batch", w.meanBatch()));
      }
      deadLetters += t.deadLetters();
      services.add(service);
    }
    JsonArray history = new JsonArray();
    for (PipelineMonitor.Point p : view.history()) {
      history.add(new JsonObject().put("time", p.timeMs()).put("tokens_per_second", round(p.tokensPerSecond()))
          .put("requests_per_second", round(p.requestsPerSecond()))
          .put("time_to_first_token_ms", p.firstTokenMs() == null ? null : round(p.firstTokenMs())));
    }
    return new JsonObject()
        .put("object", "pipeline")
        .put("updated", view.updatedMs() == 0 ? null : view.updatedMs())
        .put("interval_ms", interval.toMillis())
        .put("waiting", new JsonObject().put("tokenizer", lag.tokenizer()).put("worker", lag.worker()))
        .put("gateway", new JsonObject().put("in_flight", inFlight).put("streams_open", streamsOpen))
        .put("services", services)
        .put("dead_letters", (long) deadLetters)
        .put("history", history);
  }

  private static double round(double value) {
    return Math.round(value * 10) / 10.0;
  }
}
