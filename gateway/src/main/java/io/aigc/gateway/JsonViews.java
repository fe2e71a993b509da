package io.aigc.gateway;

import io.aigc.schemas.Completion;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.Tasks;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The JSON bodies the gateway answers with, in OpenAI's shapes where OpenAI has one. */
final class JsonViews {
  private JsonViews() {}

  /** {@code GET /v1/models}: OpenAI's list of models. */
  static JsonObject models(ServedModels models) {
    JsonArray data = new JsonArray();
    models.ids().forEach(id -> data.add(model(models, id)));
    return new JsonObject().put("object", "list").put("data", data);
  }

  /** {@code GET /v1/models/{id}}: one of them. */
  static JsonObject model(ServedModels models, String id) {
    return new JsonObject().put("id", id).put("object", "model").put("created", models.created())
        .put("owned_by", ServedModels.OWNED_BY);
  }

  /**
   * {@code GET /v1/tasks}: the named tasks a request may ask for, in the shape of OpenAI's lists: each with its
   * {@code id}, {@code description}, the fields it {@code required} and those it also takes ({@code optional}), and
   * the parameters it sets when a request leaves them at their defaults ({@code defaults}). Templates stay the
   * operator's.
   */
  static JsonObject tasks(Tasks tasks) {
    JsonArray data = new JsonArray();
    for (Tasks.Task t : tasks.all()) {
      JsonObject defaults = new JsonObject();
      t.defaults().forEach((param, value) -> defaults.put(param, value instanceof List<?> list
          ? new JsonArray(new ArrayList<>(list)) : value));
      data.add(new JsonObject().put("id", t.name()).put("object", "task").put("description", t.description())
          .put("required", new JsonArray(new ArrayList<>(t.required())))
          .put("optional", new JsonArray(new ArrayList<>(t.optional())))
          .put("defaults", defaults));
    }
    return new JsonObject().put("object", "list").put("data", data);
  }

  /**
   * A job for {@code /v1/jobs}: its status ({@code queued}, {@code done}, {@code failed}, or {@code cancelled} for a
   * job whose error is a cancellation), plus the completion when done or the error when failed, and the worker's
   * timings when it has them.
   */
  static JsonObject job(JobStore.Job job, String servedModel) {
    Completion finished = job.completion();
    boolean cancelled = finished != null && finished.getError() != null
        && ErrorCodes.CANCELLED.equals(finished.getError().getCode());
    JsonObject body = new JsonObject()
        .put("id", job.id())
        .put("object", "job")
        .put("status", cancelled ? "cancelled" : job.status().name().toLowerCase(Locale.ROOT))
        .put("created", job.created().getEpochSecond());
    Completion c = job.completion();
    String model = job.model() != null ? job.model() : servedModel;
    if (c == null) {
      return body.put("model", model);
    }
    body.put("model", c.getModel() == null ? model : c.getModel())
        .put("completed_at", c.getCompletedAt() / 1000);
    if (c.getTimings() != null) {
      // The worker's own measures, beside the completion (whose shape stays OpenAI's): what a streamed client cannot
      // see itself, such as how long its job waited before its prefill.
      body.put("timings", new JsonObject().put("queue_ms", c.getTimings().getQueueMs())
          .put("time_to_first_token_ms", c.getTimings().getTimeToFirstTokenMs())
          .put("decode_ms", c.getTimings().getDecodeMs()));
    }
    if (job.status() == JobStore.Status.DONE) {
      // In the shape its endpoint answers with: a chat job's is a chat.completion, as its 504 promised.
      ResponseFormat format = job.chat() ? ResponseFormat.CHAT : ResponseFormat.TEXT;
      return body.put("completion", format.completion(c, servedModel));
    }
    return body.put("error", errorObject(ApiError.fromPipeline(job.id(), c.getError())));
  }

  /** The answer to a cancellation: the job, now being cancelled. */
  static JsonObject cancelling(JobStore.Job job, String servedModel) {
    return new JsonObject()
        .put("id", job.id())
        .put("object", "job")
        .put("status", "cancelling")
        .put("created", job.created().getEpochSecond())
        .put("model", job.model() != null ? job.model() : servedModel);
  }

  /** OpenAI's error body, with the job id beside it when the error concerns a job. */
  static JsonObject error(ApiError e) {
    JsonObject body = new JsonObject().put("error", errorObject(e));
    if (e.jobId() != null) {
      body.put("job_id", e.jobId());
    }
    return body;
  }

  static JsonObject errorObject(ApiError e) {
    return new JsonObject()
        .put("message", e.getMessage())
        .put("type", e.type())
        .put("param", e.param())
        .put("code", e.code());
  }
}
