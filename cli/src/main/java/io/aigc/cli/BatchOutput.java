package io.aigc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigc.gateway.ApiShapes;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The output file, in OpenAI's batch output format: one line per input line, in the order answers arrive,
 * {@code {id, custom_id, response: {status_code, request_id, body}, error}}, the body being what the HTTP API answers.
 * Lines are appended whole and flushed one by one; a line cut short by a crash is dropped on reopening, so the lines
 * there are the custom_ids done.
 */
final class BatchOutput implements AutoCloseable {
  private static final JsonMapper JSON = new JsonMapper();

  private final BufferedWriter writer;
  /** custom_id to whether its answer was a success (200), for the lines already in the file. */
  private final Map<String, Boolean> done;

  private BatchOutput(BufferedWriter writer, Map<String, Boolean> done) {
    this.writer = writer;
    this.done = done;
  }

  static BatchOutput open(Path file) throws IOException {
    Map<String, Boolean> done = new HashMap<>();
    if (Files.exists(file)) {
      byte[] bytes = Files.readAllBytes(file);
      int complete = bytes.length;
      while (complete > 0 && bytes[complete - 1] != '\n') {
        complete--;
      }
      if (complete < bytes.length) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
          channel.truncate(complete);
        }
      }
      for (String line : new String(bytes, 0, complete, StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) {
          JsonNode node = JSON.readTree(line);
          done.put(node.path("custom_id").asText(), node.path("response").path("status_code").asInt() == 200);
        }
      }
    }
    BufferedWriter writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    return new BatchOutput(writer, done);
  }

  /** The custom_ids already answered, each with whether it succeeded. */
  Map<String, Boolean> done() {
    return Map.copyOf(done);
  }

  /** Appends the answer to {@code line}; {@code requestId} is null for a line never published. */
  void write(BatchInput.Line line, String requestId, ApiShapes.Answer answer) {
    ObjectNode response = JSON.createObjectNode().put("status_code", answer.status()).put("request_id", requestId);
    try {
      response.set("body", JSON.readTree(answer.body()));
      ObjectNode out = JSON.createObjectNode()
          .put("id", "batch_req_" + line.jobId().substring(line.jobId().indexOf('-') + 1))
          .put("custom_id", line.customId());
      out.set("response", response);
      out.putNull("error");
      writer.write(JSON.writeValueAsString(out));
      writer.write('\n');
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the output", e);
    }
    done.put(line.customId(), answer.ok());
  }

  @Override
  public void close() throws IOException {
    writer.close();
  }
}
