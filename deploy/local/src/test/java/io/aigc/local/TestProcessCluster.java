package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.model.testing.TestModels;
import io.aigc.schemas.CompletionStatus;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The broker and the four services each their own OS process ({@link ProcessCluster}), on free ports, serving the tiny
 * model without API keys: what the crash, overload and scale-out tests run against.
 */
final class TestProcessCluster {
  private TestProcessCluster() {}

  /** A test's settings from the defaults: its variables, whether a process that dies is started again (it is). */
  @FunctionalInterface
  interface Configure {
    ProcessCluster.Settings apply(Path home, ProcessCluster.Settings defaults) throws IOException;
  }

  /**
   * For a test class, ready before its first test: its home is {@code target/processes/NAME}, emptied first and left
   * afterwards, so that the services' logs of a failed run can be read.
   */
  static PerClass<ProcessCluster> perClass(String name, Configure configure) {
    return new PerClass<>(() -> {
      Path home = Path.of("target/processes", name).toAbsolutePath();
      TestPipeline.deleteQuietly(home);
      Files.createDirectories(home);
      ProcessCluster.Settings defaults = ProcessCluster.Settings
          .defaults(home, runtimeClasspath("deploy/local"), ProcessCluster.Layout.PROCESSES)
          .withFreePorts()
          .withEnv(Map.of("AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString(), "AIGC_AUTH", "none"));
      for (String service : ProcessCluster.SERVICES) {
        // What its image runs: its own jar and lib/, not the launcher's, which holds every service's dependencies.
        defaults = defaults.withClasspath(service, runtimeClasspath(service));
      }
      ProcessCluster cluster = ProcessCluster.start(configure.apply(home, defaults));
      try {
        cluster.awaitReady(Duration.ofMinutes(3));
        return cluster;
      } catch (Exception | Error e) {
        cluster.close();
        throw e;
      }
    });
  }

  /**
   * What a module runs on outside the tests: its classes and its runtime dependencies, as its {@code target/lib}
   * holds them ({@code deploy/local}'s is what {@code run.sh} starts; a service's, what its image holds), without
   * the test classpath's extras, so that a dependency missing at run time fails here too.
   *
   * @param module the module's folder, from the repository's root
   */
  static String runtimeClasspath(String module) throws IOException {
    Path target = Commands.ROOT.resolve(module).resolve("target");
    List<String> entries = new ArrayList<>(List.of(target.resolve("classes").toString()));
    for (String entry : Files.readString(target.resolve("runtime-classpath.txt")).strip().split(File.pathSeparator)) {
      // A module's jar names its own target/lib/ in its manifest (for its image), which would lend it jars that
      // run.sh's lib/ may lack: its classes alone, as run.sh's copy of the jar gets them.
      Path path = Path.of(entry);
      boolean moduleJar = path.startsWith(Commands.ROOT) && path.getParent().endsWith("target")
          && entry.endsWith(".jar");
      entries.add(moduleJar ? path.getParent().resolve("classes").toString() : entry);
    }
    return String.join(File.pathSeparator, entries);
  }

  /** Each accepted job has exactly one completion on the completions topic, and it is OK. */
  static void assertEachCompletedOnce(ProcessCluster cluster, Collection<String> accepted) {
    CompletionsChecker.Report report = CompletionsChecker.check(cluster.settings().bootstrapServers(), accepted,
        Duration.ofMinutes(3));
    assertThat(report.missing()).as("accepted jobs without a completion").isEmpty();
    assertThat(report.doubled()).as("request ids with more than one completion").isEmpty();
    for (String id : accepted) {
      assertThat(report.byId().get(id).get(0).getStatus()).as(id).isEqualTo(CompletionStatus.OK);
    }
  }
}
