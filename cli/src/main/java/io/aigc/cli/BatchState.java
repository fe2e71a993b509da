package io.aigc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;

/**
 * What a batch run leaves beside its output ({@code results.jsonl.state}) so that a rerun resumes it: which input it
 * is (the hash of its contents) and when it started, from which the jobs it published and their completions are read
 * back from Kafka. Written once, atomically (a new file moved over the old), so it is never half there.
 */
record BatchState(String inputSha256, Instant startedAt) {
  private static final JsonMapper JSON = new JsonMapper();

  static Path beside(Path output) {
    return output.resolveSibling(output.getFileName() + ".state");
  }

  static Optional<BatchState> read(Path file) {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      JsonNode state = JSON.readTree(file.toFile());
      return Optional.of(new BatchState(state.get("input_sha256").textValue(),
          Instant.ofEpochMilli(state.get("started_at_ms").longValue())));
    } catch (IOException | RuntimeException e) {
      throw new CliException(file + " is not a batch state file (" + e.getMessage() + "); remove it to start over");
    }
  }

  void write(Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, JSON.createObjectNode().put("input_sha256", inputSha256)
          .put("started_at_ms", startedAt.toEpochMilli()).put("started_at", startedAt.toString()).toString() + "\n");
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
