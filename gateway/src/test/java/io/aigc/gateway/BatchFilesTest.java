package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.model.testing.MovableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchFilesTest {
  @TempDir
  Path dataDir;

  private final MovableClock clock = new MovableClock(Instant.parse("2026-12-01T00:00:00Z"));

  @Test
  void aFileWithAnExpiryIsGoneFromItsExpiryOnAndDeletedFromDisk() throws Exception {
    BatchFiles.StoredFile expiring;
    BatchFiles.StoredFile kept;
    try (BatchFiles files = new BatchFiles(dataDir, clock)) {
      expiring = files.add("{}\n", "out.jsonl", BatchFiles.PURPOSE_OUTPUT, "alice", 3600L);
      kept = files.add("{}\n", "kept.jsonl", BatchFiles.PURPOSE_OUTPUT, "alice", null);
      assertThat(expiring.toJson().getLong("expires_at")).isEqualTo(expiring.createdAt() + 3600);
      assertThat(kept.toJson().getValue("expires_at")).isNull();

      clock.advance(Duration.ofSeconds(3599));
      assertThat(files.find(expiring.id(), "alice")).isPresent();
      assertThat(files.deleteExpired()).isZero();

      clock.advance(Duration.ofSeconds(1));
      // Hidden at once, before any sweep; then the sweep deletes it.
      assertThat(files.find(expiring.id(), "alice")).isEmpty();
      assertThat(files.list("alice", null)).extracting(BatchFiles.StoredFile::id).containsExactly(kept.id());
      assertThat(files.deleteExpired()).isEqualTo(1);
      assertThat(files.content(expiring.id())).doesNotExist();
      assertThat(files.content(kept.id())).exists();
    }
  }

  @Test
  void aFileThatExpiredWhileTheGatewayWasDownIsDeletedWhenItStarts() throws Exception {
    BatchFiles.StoredFile expiring;
    try (BatchFiles files = new BatchFiles(dataDir, clock)) {
      expiring = files.add("{}\n", "out.jsonl", BatchFiles.PURPOSE_OUTPUT, "alice", 3600L);
    }
    clock.advance(Duration.ofHours(2));
    try (BatchFiles files = new BatchFiles(dataDir, clock)) {
      assertThat(files.content(expiring.id())).doesNotExist();
      assertThat(Files.exists(dataDir.resolve("files").resolve(expiring.id() + ".json"))).isFalse();
    }
  }
}
