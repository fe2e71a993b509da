package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs outside clients (Python, bash, curl, kcat, Node) as processes from the repository root, as a user would. */
final class Commands {
  static final Path ROOT = repositoryRoot();
  /** Debian's interpreter: the one that sees Debian's python3-confluent-kafka and python3-avro. */
  static final String PYTHON = "/usr/bin/python3";
  static final String INSTALL = "apt-get install -y python3-confluent-kafka python3-avro kcat";
  /** The Node clients' checks, with their npm packages pinned in a committed lockfile. */
  static final Path NODE_DIR = ROOT.resolve("deploy/local/src/test/node");
  static final String NODE_INSTALL = "npm ci --prefix deploy/local/src/test/node";

  private Commands() {}

  record Result(List<String> command, int exit, String out, String err) {
    @Override
    public String toString() {
      return String.join(" ", command) + " exited " + exit + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
    }
  }

  /**
   * Fails, never skips, when the Python clients or kcat are missing: CI installs them ({@code .ci/run}), and a test
   * that quietly skips would let the README and the examples drift again.
   */
  static void requireClients() {
    assertThat(Path.of(PYTHON)).as("%s is missing: %s", PYTHON, INSTALL).isExecutable();
    Result imports = run(List.of(PYTHON, "-c", "import confluent_kafka, avro.io"), Map.of(), Duration.ofSeconds(30));
    assertThat(imports.exit()).as("Debian's Python Kafka and Avro clients are missing: %s\n%s", INSTALL, imports)
        .isZero();
    assertThat(System.getenv("PATH").split(File.pathSeparator)).as("kcat is missing from PATH: %s", INSTALL)
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, "kcat")));
  }

  /** Fails, never skips, when an npm package of the Node checks is missing: CI installs them ({@code .ci/run}). */
  static void requireNodePackage(String name) {
    assertThat(NODE_DIR.resolve("node_modules/" + name + "/package.json"))
        .as("%s is not installed: run `%s` (CI does)", name, NODE_INSTALL).exists();
  }

  /**
   * Runs one of the Node check scripts (they share {@code checks.mjs}: a line "ok - ..." or "not ok - ..." per
   * check) and asserts that all {@code count} of its checks ran and passed.
   */
  static Result nodeChecks(String script, Map<String, String> env, Duration timeout, int count) {
    Result result = run(List.of("node", NODE_DIR.resolve(script).toString()), env, timeout);
    List<String> lines = result.out().lines().toList();
    assertThat(lines.stream().filter(l -> l.startsWith("not ok"))).as("%s", result).isEmpty();
    assertThat(lines.stream().filter(l -> l.startsWith("ok - "))).as("%s", result).hasSize(count);
    assertThat(result.exit()).as("%s", result).isZero();
    return result;
  }

  /** Runs {@code command} from the repository root with {@code env} added; fails if it outlives {@code timeout}. */
  static Result run(List<String> command, Map<String, String> env, Duration timeout) {
    try {
      Path out = Files.createTempFile("aigc-command", ".out");
      Path err = Files.createTempFile("aigc-command", ".err");
      try {
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("PYTHONIOENCODING", "utf-8");
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly().waitFor();
          throw new AssertionError("still running after " + timeout + ": "
              + new Result(command, -1, Files.readString(out), Files.readString(err)));
        }
        return new Result(command, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Tests run in the module's folder; the examples and the README are the repository's. */
  private static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("deploy/local/run.sh")) && Files.isRegularFile(p.resolve("README.md"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find the repository root (with README.md and deploy/local/run.sh)");
  }
}
