package io.aigc.gateway;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of {@code /v1/files} on the data folder ({@code AIGC_DATA_DIR}): each is {@code files/<id>.jsonl} with
 * its description beside it in {@code files/<id>.json}, written after the content and atomically, so a file exists
 * once its description does and a crash mid-upload leaves nothing half-listed. Read back on start. The folder is
 * locked while a gateway uses it: two instances resuming the same batches would submit them twice.
 *
 * <p>Thread-safe; every method may block on the disk, so it runs off the event loop.
 */
final class BatchFiles implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BatchFiles.class);
  static final String PURPOSE_BATCH = "batch";
  static final String PURPOSE_OUTPUT = "batch_output";

  /**
   * A file as {@code /v1/files} shows it; {@code owner} is the API key name that uploaded it (null without keys),
   * {@code expiresAt} when it is deleted (Unix seconds; null: when its owner deletes it).
   */
  record StoredFile(String id, long bytes, long createdAt, String filename, String purpose, String owner,
      Long expiresAt) {
    JsonObject toJson() {
      return new JsonObject().put("id", id).put("object", "file").put("bytes", bytes).put("created_at", createdAt)
          .put("filename", filename).put("purpose", purpose).put("status", "processed").put("expires_at", expiresAt)
          .putNull("status_details");
    }

    JsonObject toStored() {
      return toJson().put("owner", owner);
    }

    static StoredFile fromStored(JsonObject o) {
      return new StoredFile(o.getString("id"), o.getLong("bytes"), o.getLong("created_at"), o.getString("filename"),
          o.getString("purpose"), o.getString("owner"), o.getLong("expires_at"));
    }

    boolean expired(long nowSeconds) {
      return expiresAt != null && nowSeconds >= expiresAt;
    }
  }

  private final Path dir;
  private final Path uploads;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Map<String, StoredFile> files = new LinkedHashMap<>();
  private final Clock clock;

  BatchFiles(Path dataDir, Clock clock) throws IOException {
    this.clock = clock;
    this.dir = Files.createDirectories(dataDir.resolve("files"));
    this.uploads = Files.createDirectories(dataDir.resolve("uploads"));
    this.lockChannel = FileChannel.open(dataDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock taken = null;
    try {
      taken = lockChannel.tryLock();
    } catch (IOException | OverlappingFileLockException e) {
      // Stays null: reported below (the overlap is another gateway in this JVM).
    }
    if (taken == null) {
      lockChannel.close();
      throw new IllegalStateException("AIGC_DATA_DIR " + dataDir + " is in use by another gateway: give each "
          + "instance its own folder");
    }
    this.lock = taken;
    clean(uploads);
    List<StoredFile> found = readAll(dir, "*.json", StoredFile::fromStored, "file description");
    found.sort(Comparator.comparingLong(StoredFile::createdAt).thenComparing(StoredFile::id));
    found.forEach(f -> files.put(f.id(), f));
    deleteExpired();
  }

  /** Where uploads are received before they become files. */
  Path uploads() {
    return uploads;
  }

  /** Makes {@code source} (moved, not copied) a file. */
  synchronized StoredFile add(Path source, String filename, String purpose, String owner) throws IOException {
    String id = JobIds.random("file-");
    Path content = content(id);
    Files.move(source, content, StandardCopyOption.ATOMIC_MOVE);
    return describe(id, Files.size(content), filename, purpose, owner, null);
  }

  /** Makes {@code text} a file, deleted {@code expiresAfter} seconds after it is made (null: never). */
  synchronized StoredFile add(String text, String filename, String purpose, String owner, Long expiresAfter)
      throws IOException {
    String id = JobIds.random("file-");
    writeAtomically(content(id), text);
    return describe(id, Files.size(content(id)), filename, purpose, owner, expiresAfter);
  }

  /**
   * The file, when {@code caller} owns it: another caller's file is as absent as an unknown one, and so is an
   * expired one.
   */
  synchronized Optional<StoredFile> find(String id, String caller) {
    long now = nowSeconds();
    return Optional.ofNullable(files.get(id)).filter(f -> Objects.equals(f.owner(), caller) && !f.expired(now));
  }

  /** {@code caller}'s files, newest first. */
  synchronized List<StoredFile> list(String caller, String purpose) {
    List<StoredFile> mine = new ArrayList<>();
    long now = nowSeconds();
    for (StoredFile f : files.values()) {
      if (Objects.equals(f.owner(), caller) && (purpose == null || purpose.equals(f.purpose())) && !f.expired(now)) {
        mine.add(0, f);
      }
    }
    return mine;
  }

  synchronized boolean delete(String id, String caller) throws IOException {
    if (find(id, caller).isEmpty()) {
      return false;
    }
    remove(id);
    return true;
  }

  /** Deletes the files whose time has come; until then {@link #find} and {@link #list} already hide them. */
  synchronized int deleteExpired() throws IOException {
    long now = nowSeconds();
    List<String> expired = files.values().stream().filter(f -> f.expired(now)).map(StoredFile::id).toList();
    for (String id : expired) {
      remove(id);
    }
    if (!expired.isEmpty()) {
      log.info("deleted {} expired files", expired.size());
    }
    return expired.size();
  }

  private void remove(String id) throws IOException {
    Files.deleteIfExists(dir.resolve(id + ".json"));
    files.remove(id);
    Files.deleteIfExists(content(id));
  }

  private long nowSeconds() {
    return clock.millis() / 1000;
  }

  Path content(String id) {
    return dir.resolve(id + ".jsonl");
  }

  private StoredFile describe(String id, long bytes, String filename, String purpose, String owner,
      Long expiresAfter) throws IOException {
    long now = nowSeconds();
    StoredFile file = new StoredFile(id, bytes, now, filename, purpose, owner,
        expiresAfter == null ? null : now + expiresAfter);
    writeAtomically(dir.resolve(id + ".json"), file.toStored().encode());
    files.put(id, file);
    return file;
  }

  /** Replaces {@code target} with {@code text} at once: a reader (or a restart) sees the old or the new, whole. */
  static void writeAtomically(Path target, String text) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(StandardCharsets.UTF_8.encode(text));
      channel.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * What {@link #writeAtomically} wrote to the files of {@code dir} that match {@code glob}, in no order; one that
   * does not parse (a file a person edited, say) is logged as an unreadable {@code what} and skipped.
   */
  static <T> List<T> readAll(Path dir, String glob, Function<JsonObject, T> parse, String what) throws IOException {
    List<T> found = new ArrayList<>();
    try (DirectoryStream<Path> stored = Files.newDirectoryStream(dir, glob)) {
      for (Path p : stored) {
        try {
          found.add(parse.apply(new JsonObject(Files.readString(p))));
        } catch (RuntimeException e) {
          log.warn("skipping unreadable {} {}: {}", what, p, e.toString());
        }
      }
    }
    return found;
  }

  private static void clean(Path folder) throws IOException {
    try (DirectoryStream<Path> left = Files.newDirectoryStream(folder)) {
      for (Path p : left) {
        Files.deleteIfExists(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.warn("could not release the lock of the data folder: {}", e.toString());
    }
  }
}
