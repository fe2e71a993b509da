package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.cli.AigcMain;
import io.aigc.gateway.GatewayConfig;
import io.aigc.model.testing.TestModels;
import io.aigc.postprocessor.PostprocessorConfig;
import io.aigc.runtime.Env;
import io.aigc.tokenizer.TokenizerConfig;
import io.aigc.worker.WorkerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The README's configuration tables against the code: every variable a service reads is documented in its table or
 * in "Every service", and every variable documented there is read. Each configuration is read from an environment
 * that records what is asked for ({@link Env#read()}), holding only what the configuration needs to be built, so
 * the reads are the ones a service makes when nothing is set.
 */
class ConfigurationDocumentedTest {
  static final String EVERY_SERVICE = "Every service";
  static final String LAUNCHER = "deploy/local/run.sh";
  static final Path ROOT = Commands.ROOT;
  static final Map<String, Set<String>> TABLES = configurationTables(ROOT.resolve("README.md"));

  static Stream<Arguments> services() {
    return Stream.of(
        // Without keys or AIGC_AUTH=none, the gateway refuses to start.
        service("gateway", GatewayConfig::fromEnv, Map.of("AIGC_AUTH", "none")),
        service("tokenizer-service", TokenizerConfig::fromEnv, Map.of()),
        service("inference-worker", WorkerConfig::fromEnv, Map.of()),
        service("postprocessor", PostprocessorConfig::fromEnv, Map.of()));
  }

  @ParameterizedTest(name = "{0} reads exactly the variables of its README table and of Every service")
  @MethodSource("services")
  void everyServiceReadsExactlyTheVariablesItsTablesDocument(String service, Consumer<Env> readConfig,
      Map<String, String> needed) {
    Env env = modelEnv().with(needed);
    readConfig.accept(env);
    Set<String> read = new TreeSet<>(env.read());
    // AIGC_LOG_LEVEL is read by log4j2 (runtime's log4j2.xml, in every service), not through Env.
    read.addAll(log4jVariables());

    assertReadEqualsDocumented(service, read, List.of(service, EVERY_SERVICE));
  }

  @Test
  void theLogLevelIsReadByLog4jInEveryService() {
    assertThat(log4jVariables()).contains("AIGC_LOG_LEVEL");
    assertThat(TABLES.get(EVERY_SERVICE)).contains("AIGC_LOG_LEVEL");
  }

  @Test
  void theLauncherReadsExactlyTheVariablesOfItsReadmeTable() {
    Env env = Env.of(Map.of());
    LauncherConfig.fromEnv(env);
    Set<String> read = new TreeSet<>(env.read());
    read.addAll(runShVariables());

    assertReadEqualsDocumented(LAUNCHER, read, List.of(LAUNCHER));
  }

  @Test
  void theOneJvmPipelineReadsOnlyDocumentedVariables() {
    Env env = modelEnv().with(Map.of("AIGC_AUTH", "none"));
    new LocalPipeline(env);
    Set<String> documented = new TreeSet<>();
    TABLES.values().forEach(documented::addAll);

    assertThat(undocumented(env.read(), documented))
        .as("variables the one-JVM pipeline (LocalPipeline) reads that no README configuration table documents")
        .isEmpty();
  }

  @Test
  void theCommandLineReadsOnlyVariablesOfEveryServiceAndTheGatewaysTasksFile() {
    Env env = Env.of(Map.of());
    // It reads its configuration before its input, which is missing here: it stops there, having touched nothing.
    int exit = AigcMain.execute(env, () -> true, new PrintStream(OutputStream.nullOutputStream()), "batch",
        "no-such-input.jsonl", "-o", "no-such-output.jsonl");

    assertThat(exit).isEqualTo(1);
    assertThat(env.read()).contains("KAFKA_BOOTSTRAP_SERVERS", "AIGC_TOPIC_REQUESTS", "AIGC_TOPIC_COMPLETIONS",
        "AIGC_TASKS_FILE");
    // The tasks file is the gateway's, so that a batch line is judged as the gateway would judge it.
    assertThat(TABLES.get("gateway")).contains("AIGC_TASKS_FILE");
    Set<String> documented = new TreeSet<>(TABLES.get(EVERY_SERVICE));
    documented.add("AIGC_TASKS_FILE");
    assertThat(undocumented(env.read(), documented))
        .as("variables the command line reads that the README's \"%s\" table does not document", EVERY_SERVICE)
        .isEmpty();
  }


  @Test
  void theReadmeHasAConfigurationTableForEachServiceAndTheLauncher() {
    assertThat(TABLES.keySet()).containsExactlyInAnyOrder(EVERY_SERVICE, "gateway", "tokenizer-service",
        "inference-worker", "postprocessor", LAUNCHER);
  }

  @Test
  void noServiceVariableIsDocumentedBothInItsTableAndInEveryService() {
    SoftAssertions softly = new SoftAssertions();
    for (String service : List.of("gateway", "tokenizer-service", "inference-worker", "postprocessor")) {
      Set<String> twice = new TreeSet<>(TABLES.get(service));
      twice.retainAll(TABLES.get(EVERY_SERVICE));
      softly.assertThat(twice).as("variables in both the README's \"%s\" and \"%s\" tables", service, EVERY_SERVICE)
          .isEmpty();
    }
    softly.assertAll();
  }

  private static Arguments service(String name, Consumer<Env> readConfig, Map<String, String> needed) {
    return Arguments.of(name, readConfig, needed);
  }

  /** The test model, so the gateway reads its context length as it would in production. */
  private static Env modelEnv() {
    return Env.of(Map.of("AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString()));
  }

  private static void assertReadEqualsDocumented(String reader, Set<String> read, List<String> tables) {
    Set<String> documented = new TreeSet<>();
    tables.forEach(table -> documented.addAll(TABLES.get(table)));
    Set<String> unread = new TreeSet<>(documented);
    unread.removeAll(read);
    String where = String.join("\" or \"", tables);

    SoftAssertions softly = new SoftAssertions();
    softly.assertThat(undocumented(read, documented))
        .as("variables %s reads that the README's \"%s\" table does not document", reader, where)
        .isEmpty();
    softly.assertThat(unread)
        .as("variables the README's \"%s\" table documents that %s does not read", where, reader)
        .isEmpty();
    softly.assertAll();
  }

  /** The names read that are documented neither by name nor by a documented prefix ({@code KAFKA_SASL_*}). */
  private static Set<String> undocumented(Set<String> read, Set<String> documented) {
    Set<String> undocumented = new TreeSet<>();
    for (String name : read) {
      boolean byPrefix = documented.stream().anyMatch(d -> d.endsWith("*") && !name.endsWith("*")
          && name.startsWith(d.substring(0, d.length() - 1)));
      if (!documented.contains(name) && !byPrefix) {
        undocumented.add(name);
      }
    }
    return undocumented;
  }

  /** What log4j2 reads from the environment ({@code ${env:NAME}} lookups) in the configuration every service uses. */
  private static Set<String> log4jVariables() {
    return matches(Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)"),
        read(ROOT.resolve("runtime/src/main/resources/log4j2.xml")));
  }

  /**
   * Our variables run.sh itself expands, comments aside; its own ({@code ROOT}, {@code JAR}) are not configuration
   * and are not named like ours.
   */
  private static Set<String> runShVariables() {
    String code = read(ROOT.resolve("deploy/local/run.sh")).lines()
        .filter(line -> !line.stripLeading().startsWith("#"))
        .reduce("", (a, b) -> a + b + "\n");
    return matches(Pattern.compile("\\$\\{?((?:AIGC|KAFKA)_[A-Z0-9_]+)"), code);
  }

  private static Set<String> matches(Pattern pattern, String text) {
    Set<String> names = new TreeSet<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /**
   * The variable names of each table in the README's "Configuration" section, by the bold title above the table.
   * A row's first cell holds its names, each in backticks and written out in full; anything else there fails here,
   * so a shorthand the test could not check does not slip in.
   */
  static Map<String, Set<String>> configurationTables(Path readme) {
    String text = read(readme);
    int start = text.indexOf("\n## Configuration\n");
    assertThat(start).as("the README's \"## Configuration\" section").isNotNegative();
    int end = text.indexOf("\n## ", start + 1);
    Pattern title = Pattern.compile("^\\*\\*([^*]+)\\*\\*");
    Pattern quoted = Pattern.compile("`([^`]*)`");
    Pattern variable = Pattern.compile("[A-Z][A-Z0-9_]*\\*?");
    Map<String, Set<String>> tables = new LinkedHashMap<>();
    String table = null;
    for (String line : text.substring(start, end < 0 ? text.length() : end).split("\n")) {
      Matcher t = title.matcher(line);
      if (t.find()) {
        table = t.group(1);
        continue;
      }
      if (!line.startsWith("|")) {
        continue;
      }
      String cell = line.split("\\|", -1)[1].trim();
      if (cell.equals("Variable") || cell.matches("-+")) {
        continue; // a table's header and separator rows
      }
      if (table == null) {
        throw new IllegalStateException("a configuration table without a bold title above it: " + line);
      }
      if (!cell.replaceAll("`[^`]*`", "").replaceAll("[,\\s]", "").isEmpty() || !cell.contains("`")) {
        throw new IllegalStateException("the README's \"" + table + "\" table has a row whose first cell is not "
            + "only backticked variable names: " + cell);
      }
      Matcher q = quoted.matcher(cell);
      while (q.find()) {
        String name = q.group(1);
        if (!variable.matcher(name).matches()) {
          throw new IllegalStateException("the README's \"" + table + "\" table names `" + name
              + "`, which is not a variable name; write each name out in full");
        }
        if (!tables.computeIfAbsent(table, k -> new TreeSet<>()).add(name)) {
          throw new IllegalStateException("the README's \"" + table + "\" table documents " + name + " twice");
        }
      }
    }
    return tables;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
