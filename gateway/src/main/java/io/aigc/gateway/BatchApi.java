package io.aigc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigc.schemas.RequestRules;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * OpenAI's Files and Batch APIs, as far as batches need them: {@code /v1/files} (upload with purpose {@code batch},
 * list, retrieve, delete, content) and {@code /v1/batches} (create, retrieve, list, cancel). The files live in
 * {@link BatchFiles}, the batches run in {@link Batches}; every file and batch belongs to the API key that made it.
 */
record BatchApi(Batches batches, BatchFiles files, BatchConfig config) implements BatchRoutes {
  private static final Set<String> CREATE_FIELDS = Set.of("input_file_id", "endpoint", "completion_window",
      "metadata", "output_expires_after");
  private static final long MIN_EXPIRY_SECONDS = 3_600;
  private static final long MAX_EXPIRY_SECONDS = 2_592_000;

  @Override
  public void mount(Router router, Handler<RoutingContext> json, Handler<RoutingContext> utf8) {
    BodyHandler upload = BodyHandler.create(files.uploads().toString()).setBodyLimit(config.maxFileBytes())
        .setDeleteUploadedFilesOnEnd(true).setMergeFormAttributes(true);
    router.post(Routes.FILES).consumes("multipart/form-data").handler(upload).handler(this::upload);
    router.get(Routes.FILES).handler(this::listFiles);
    router.get(Routes.FILE).handler(ctx -> answer(ctx, () -> file(ctx).toJson()));
    router.delete(Routes.FILE).handler(this::deleteFile);
    router.get(Routes.FILE_CONTENT).handler(this::content);
    router.post(Routes.BATCHES).consumes(Bodies.JSON).handler(json).handler(utf8).handler(this::create);
    router.get(Routes.BATCHES).handler(this::listBatches);
    router.get(Routes.BATCH).handler(ctx -> answer(ctx, () -> batch(ctx).toJson()));
    router.post(Routes.BATCH_CANCEL).handler(ctx -> answer(ctx,
        () -> batches.cancel(ctx.pathParam("id"), ApiKeyHandler.caller(ctx)).toJson()));
  }

  private void upload(RoutingContext ctx) {
    String purpose = ctx.request().getFormAttribute("purpose");
    if (purpose == null) {
      throw ApiError.invalid("purpose", "missing_required_parameter", "Missing required parameter: 'purpose'.");
    }
    if (!BatchFiles.PURPOSE_BATCH.equals(purpose)) {
      throw ApiError.invalid("purpose", "invalid_value", "Invalid 'purpose': this server accepts files for '"
          + BatchFiles.PURPOSE_BATCH + "' only.");
    }
    List<FileUpload> uploads = ctx.fileUploads().stream().filter(u -> u.name().equals("file")).toList();
    if (uploads.size() != 1) {
      throw ApiError.invalid("file", "missing_required_parameter", "Send exactly one file, as the form field 'file'.");
    }
    FileUpload upload = uploads.get(0);
    String filename = upload.fileName() == null || upload.fileName().isBlank() ? "upload.jsonl" : upload.fileName();
    String owner = ApiKeyHandler.caller(ctx);
    answer(ctx, () -> files.add(Path.of(upload.uploadedFileName()), filename, purpose, owner).toJson());
  }

  private void listFiles(RoutingContext ctx) {
    String caller = ApiKeyHandler.caller(ctx);
    String purpose = ctx.queryParams().get("purpose");
    Page page = Page.of(ctx);
    answer(ctx, () -> page.of(files.list(caller, purpose), BatchFiles.StoredFile::id,
        BatchFiles.StoredFile::toJson));
  }

  private BatchFiles.StoredFile file(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return files.find(id, ApiKeyHandler.caller(ctx)).orElseThrow(() -> ApiError.notFound("file", id));
  }

  private void deleteFile(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String caller = ApiKeyHandler.caller(ctx);
    answer(ctx, () -> {
      if (files.find(id, caller).isPresent() && batches.inUse(id)) {
        throw ApiError.conflict("file_in_use", "File '" + id + "' is the input of a batch still running; cancel the "
            + "batch or wait for it to finish.");
      }
      if (!files.delete(id, caller)) {
        throw ApiError.notFound("file", id);
      }
      return new JsonObject().put("id", id).put("object", "file").put("deleted", true);
    });
  }

  private void content(RoutingContext ctx) {
    BatchFiles.StoredFile file = file(ctx);
    Path path = files.content(file.id());
    batches.call(() -> Files.exists(path)).onSuccess(exists -> {
      if (!exists) {
        ctx.fail(ApiError.notFound("file", file.id()));
        return;
      }
      ctx.response().putHeader("Content-Type", "application/jsonl").sendFile(path.toString())
          .onFailure(e -> ctx.fail(ApiError.notFound("file", file.id())));
    }).onFailure(ctx::fail);
  }

  private void create(RoutingContext ctx) {
    JsonBody body = JsonBody.parse(Bodies.bytes(ctx), CREATE_FIELDS);
    String input = required(body, "input_file_id");
    String endpoint = required(body, "endpoint");
    if (!batches.endpointNames().contains(endpoint)) {
      throw ApiError.invalid("endpoint", "invalid_value", "Invalid 'endpoint': a batch may run "
          + String.join(" or ", batches.endpointNames().stream().sorted().toList()) + ".");
    }
    String window = required(body, "completion_window");
    if (!Batches.COMPLETION_WINDOW.equals(window)) {
      throw ApiError.invalid("completion_window", "invalid_value", "Invalid 'completion_window': only '"
          + Batches.COMPLETION_WINDOW + "' is supported.");
    }
    Long outputExpiresAfter = outputExpiresAfter(body.present("output_expires_after"));
    Map<String, String> metadata = metadata(body.present("metadata"));
    String caller = ApiKeyHandler.caller(ctx);
    answer(ctx, () -> batches.create(caller, input, endpoint, metadata, outputExpiresAfter).toJson());
  }

  /**
   * OpenAI's {@code {"anchor": "created_at", "seconds": N}}: the output and error files are deleted N seconds after
   * they are made, N from an hour to 30 days. Null when absent.
   */
  private static Long outputExpiresAfter(JsonNode expiry) {
    if (expiry == null) {
      return null;
    }
    if (!expiry.isObject()) {
      throw JsonBody.wrongType("output_expires_after", "an object", expiry);
    }
    JsonNode anchor = expiry.get("anchor");
    JsonNode seconds = expiry.get("seconds");
    if (anchor == null || !anchor.isTextual() || !anchor.textValue().equals("created_at")) {
      throw ApiError.invalid("output_expires_after", "invalid_value",
          "Invalid 'output_expires_after.anchor': the supported anchor is 'created_at'.");
    }
    if (seconds == null || !seconds.canConvertToLong() || !seconds.isIntegralNumber()
        || seconds.longValue() < MIN_EXPIRY_SECONDS || seconds.longValue() > MAX_EXPIRY_SECONDS) {
      throw ApiError.invalid("output_expires_after", "invalid_value", "Invalid 'output_expires_after.seconds': "
          + "expected an integer between " + MIN_EXPIRY_SECONDS + " (1 hour) and " + MAX_EXPIRY_SECONDS
          + " (30 days).");
    }
    if (expiry.size() != 2) {
      throw ApiError.invalid("output_expires_after", "invalid_value",
          "Invalid 'output_expires_after': it takes 'anchor' and 'seconds' only.");
    }
    return seconds.longValue();
  }

  private void listBatches(RoutingContext ctx) {
    String caller = ApiKeyHandler.caller(ctx);
    Page page = Page.of(ctx);
    answer(ctx, () -> page.of(batches.list(caller), Batch::id, Batch::toJson));
  }

  private Batch batch(RoutingContext ctx) throws Exception {
    String id = ctx.pathParam("id");
    return batches.find(id, ApiKeyHandler.caller(ctx)).orElseThrow(() -> ApiError.notFound("batch", id));
  }

  /** Runs {@code work} on the batches' context (it may touch the disk) and answers 200 with what it returns. */
  private void answer(RoutingContext ctx, Callable<JsonObject> work) {
    batches.call(work).onSuccess(body -> Bodies.json(ctx, 200, body)).onFailure(ctx::fail);
  }

  private static String required(JsonBody body, String field) {
    String value = body.string(field);
    if (value == null || value.isEmpty()) {
      throw ApiError.invalid(field, "missing_required_parameter", "Missing required parameter: '" + field + "'.");
    }
    return value;
  }

  /** OpenAI's metadata: up to 16 string pairs, keys up to 64 characters, values up to 512. */
  private static Map<String, String> metadata(JsonNode node) {
    if (node == null) {
      return null;
    }
    if (!node.isObject()) {
      throw JsonBody.wrongType("metadata", "an object", node);
    }
    if (node.size() > RequestRules.MAX_METADATA_ENTRIES) {
      throw ApiError.invalid("metadata", "invalid_value", "'metadata' may have at most "
          + RequestRules.MAX_METADATA_ENTRIES + " pairs.");
    }
    Map<String, String> pairs = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual() || e.getKey().length() > RequestRules.MAX_METADATA_KEY_LENGTH
          || e.getValue().textValue().length() > RequestRules.MAX_METADATA_VALUE_LENGTH) {
        throw ApiError.invalid("metadata." + JsonBody.shown(e.getKey()), "invalid_value", "'metadata' values must "
            + "be strings of at most " + RequestRules.MAX_METADATA_VALUE_LENGTH + " characters, keys at most "
            + RequestRules.MAX_METADATA_KEY_LENGTH + ".");
      }
      pairs.put(e.getKey(), e.getValue().textValue());
    }
    return pairs;
  }

  /** OpenAI's cursor pages: {@code limit} (1 to 100, default 20) items after the item {@code after}. */
  private record Page(int limit, String after) {
    static Page of(RoutingContext ctx) {
      String limit = ctx.queryParams().get("limit");
      int n = 20;
      if (limit != null) {
        try {
          n = Integer.parseInt(limit);
        } catch (NumberFormatException e) {
          n = -1;
        }
        if (n < 1 || n > 100) {
          throw ApiError.invalid("limit", "invalid_value", "Invalid 'limit': an integer between 1 and 100.");
        }
      }
      return new Page(n, ctx.queryParams().get("after"));
    }

    <T> JsonObject of(List<T> newestFirst, Function<T, String> id, Function<T, JsonObject> view) {
      int from = 0;
      if (after != null) {
        from = newestFirst.size();
        for (int i = 0; i < newestFirst.size(); i++) {
          if (id.apply(newestFirst.get(i)).equals(after)) {
            from = i + 1;
            break;
          }
        }
      }
      List<T> page = newestFirst.subList(from, Math.min(newestFirst.size(), from + limit));
      return new JsonObject().put("object", "list")
          .put("data", new JsonArray(page.stream().map(view).toList()))
          .put("first_id", page.isEmpty() ? null : id.apply(page.get(0)))
          .put("last_id", page.isEmpty() ? null : id.apply(page.get(page.size() - 1)))
          .put("has_more", from + limit < newestFirst.size());
    }
  }
}
