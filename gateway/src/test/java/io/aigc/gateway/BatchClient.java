package io.aigc.gateway;

import static io.aigc.gateway.TestHttp.bearer;
import static io.aigc.gateway.TestHttp.builder;
import static io.aigc.gateway.TestHttp.get;
import static io.aigc.gateway.TestHttp.json;
import static io.aigc.gateway.TestHttp.post;
import static io.aigc.gateway.TestHttp.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The Batch API as the SDK calls it: an upload, a batch, polls, and the result files, as a caller with one key. */
record BatchClient(GatewayService gateway, String key) {
  static final String BOUNDARY = "----aigc-test-boundary";

  /** {@code POST /v1/files}, multipart as the SDK sends it. */
  HttpResponse<String> upload(String purpose, String filename, String content) throws Exception {
    String body = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n"
        + "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\n"
        + "Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + BOUNDARY + "--\r\n";
    return send(builder(gateway, "/v1/files", "Authorization", bearer(key))
        .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
        .POST(BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
  }

  String uploadBatchFile(String content) throws Exception {
    return json(upload("batch", "input.jsonl", content), 200).getString("id");
  }

  JsonObject create(String fileId, String endpoint) throws Exception {
    return json(post(gateway, "/v1/batches", new JsonObject().put("input_file_id", fileId).put("endpoint", endpoint)
        .put("completion_window", "24h").encode(), "Authorization", bearer(key)), 200);
  }

  JsonObject retrieve(String batchId) throws Exception {
    return json(get(gateway, "/v1/batches/" + batchId, "Authorization", bearer(key)), 200);
  }

  JsonObject awaitStatus(String batchId, String status) {
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> retrieve(batchId), b -> b.getString("status").equals(status));
  }

  JsonObject cancel(String batchId) throws Exception {
    return json(post(gateway, "/v1/batches/" + batchId + "/cancel", "", "Authorization", bearer(key)), 200);
  }

  /** A file's lines as JSON, by custom_id. */
  Map<String, JsonObject> lines(String fileId) throws Exception {
    HttpResponse<String> content = get(gateway, "/v1/files/" + fileId + "/content", "Authorization", bearer(key));
    assertThat(content.statusCode()).as(content.body()).isEqualTo(200);
    return content.body().lines().map(JsonObject::new)
        .collect(Collectors.toMap(l -> l.getString("custom_id"), Function.identity()));
  }

  /** A JSONL line for {@code /v1/completions}. */
  static String completionLine(String customId, String prompt) {
    return new JsonObject().put("custom_id", customId).put("method", "POST").put("url", "/v1/completions")
        .put("body", new JsonObject().put("prompt", prompt).put("max_tokens", 4)).encode();
  }

  static String jsonl(List<String> lines) {
    return String.join("\n", lines) + "\n";
  }
}
