package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every code block a user would run in the READMEs (the project's and the Python examples') is run here, against a
 * real broker and the four services, so the READMEs cannot drift from the code. New blocks are picked up as they are
 * written.
 *
 * <p>The convention, by the fence's language:
 * <ul>
 *   <li>{@code python}: a program, run with Debian's python3 from the repository root.
 *   <li>{@code bash}, {@code sh}, {@code shell} or none: a script, run with {@code bash} ({@code set -eo pipefail})
 *       from the repository root. When lines start with {@code "$ "} (or the language is {@code console}) the block
 *       is a transcript: each {@code "$ "} line, with its {@code \}-continued lines, is a command run in a shell of
 *       its own, in order, and the lines after it are its output, shown for reading and not compared. A value that
 *       output shows (an id) and a later command uses becomes the real output's value at the same place in the JSON.
 *   <li>{@code text}, {@code json}: not code (diagrams, output).
 *   <li>Any block whose previous non-blank line is {@code <!-- not run: reason -->} is not run; the reason is required.
 *   <li>Any other language fails {@link #everyCodeBlockIsRunOrSaysWhyNot}, until the block is tagged or marked.
 * </ul>
 *
 * <p>Each block must exit 0. Where it uses the defaults ({@code localhost:8080}, {@code 127.0.0.1:9092},
 * {@code $(cat .local/api-key)}) the test's own ports and key are put in; {@code KAFKA_BOOTSTRAP_SERVERS} points the
 * examples at the test's broker; {@code python3} is Debian's; {@code curl} fails on any status but 2xx.
 */
class ReadmeBlocksTest {
  /** The READMEs whose blocks are run: the project's, and the examples' own. */
  static final List<String> READMES = List.of("README.md", "examples/python/README.md");
  static final Duration TIMEOUT = Duration.ofSeconds(180);
  static final Pattern FENCE = Pattern.compile("```([\\w+-]*)\\s*");
  static final Pattern NOT_RUN = Pattern.compile("<!--\\s*not run:(.*)-->");
  static final Set<String> SHELLS = Set.of("", "bash", "sh", "shell", "console");
  static final Set<String> NOT_CODE = Set.of("text", "json");
  /** What the README's blocks assume that a test cannot have: a real run's ports and key. */
  static final List<String> DEFAULTS = List.of(":8080", ":9092", ".local/");
  /** Every shell gets this first: strict, and curl failing on 4xx and 5xx with the body shown. */
  static final String PREAMBLE = """
      set -eo pipefail
      curl() { command curl --fail-with-body --show-error "$@"; }
      """;
  static final ObjectMapper JSON = new ObjectMapper();
  static TestPipeline pipeline;
  static Path bin;

  record Block(String file, int line, String section, String language, String body, String notRun) {
    boolean transcript() {
      return language.equals("console") || SHELLS.contains(language) && body.lines().anyMatch(l -> l.startsWith("$ "));
    }

    boolean runs() {
      return notRun == null && !NOT_CODE.contains(language);
    }

    String name() {
      String first = body.lines().filter(l -> !l.isBlank()).findFirst().orElse("").strip();
      return file + " line " + line + " (" + section + "): "
          + (first.length() > 80 ? first.substring(0, 77) + "..." : first);
    }
  }

  record Command(String text, String shown) {}

  /** The fenced blocks of every README, each with its section and its not-run reason if marked. */
  static List<Block> blocks() throws IOException {
    List<Block> blocks = new ArrayList<>();
    for (String file : READMES) {
      blocks.addAll(blocks(file, Files.readString(Commands.ROOT.resolve(file))));
    }
    return blocks;
  }

  static List<Block> blocks(String file, String readme) {
    List<String> lines = readme.lines().toList();
    List<Block> blocks = new ArrayList<>();
    String section = "(top)";
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("## ")) {
        section = lines.get(i).substring(3).strip();
      }
      Matcher fence = FENCE.matcher(lines.get(i));
      if (!fence.matches()) {
        continue;
      }
      int start = i;
      StringBuilder body = new StringBuilder();
      for (i++; i < lines.size() && !lines.get(i).strip().equals("```"); i++) {
        body.append(lines.get(i)).append('\n');
      }
      if (i == lines.size()) {
        throw new IllegalStateException(file + " line " + (start + 1) + ": a code block that never closes");
      }
      blocks.add(new Block(file, start + 1, section, fence.group(1), body.toString(), notRunReason(lines, start)));
    }
    return blocks;
  }

  private static String notRunReason(List<String> lines, int fence) {
    int j = fence - 1;
    while (j >= 0 && lines.get(j).isBlank()) {
      j--;
    }
    Matcher marker = j >= 0 ? NOT_RUN.matcher(lines.get(j).strip()) : null;
    return marker != null && marker.matches() ? marker.group(1).strip() : null;
  }

  @Test
  void everyCodeBlockIsRunOrSaysWhyNot() throws IOException {
    List<Block> blocks = blocks();

    for (Block block : blocks) {
      assertThat(block.notRun()).as("%s: <!-- not run: --> needs a reason", block.name()).isNotEqualTo("");
      if (block.notRun() == null) {
        assertThat(SHELLS.contains(block.language()) || NOT_CODE.contains(block.language())
            || block.language().equals("python"))
            .as("%s: a ```%s block is neither run nor marked <!-- not run: reason -->", block.name(), block.language())
            .isTrue();
      }
    }
    // A parser that found nothing to run would pass everything: the README has a block of each kind.
    assertThat(blocks.stream().filter(Block::runs)).anyMatch(Block::transcript)
        .anyMatch(b -> b.language().equals("python"))
        .anyMatch(b -> SHELLS.contains(b.language()) && !b.transcript());
  }

  @Test
  void aBlockIsReadWithItsSectionLanguageAndNotRunReason() {
    List<Block> blocks = blocks("R.md", """
        # Title
        ## Try
        <!-- not run: it blocks -->

        ```
        serve --forever
        ```
        ```python
        print(1)
        ```
        """);

    assertThat(blocks).containsExactly(
        new Block("R.md", 5, "Try", "", "serve --forever\n", "it blocks"),
        new Block("R.md", 8, "Try", "python", "print(1)\n", null));
  }

  @Test
  void aTranscriptIsCommandsWithTheirContinuationsEachFollowedByItsShownOutput() {
    List<Command> commands = commands("""
        $ curl -s localhost:8080/a \\
            -d '{}'
        {"id": "cmpl-1"}

        $ curl -s localhost:8080/b
        """);

    assertThat(commands).containsExactly(
        new Command("curl -s localhost:8080/a \\\n    -d '{}'", "{\"id\": \"cmpl-1\"}\n\n"),
        new Command("curl -s localhost:8080/b", ""));
  }

  @Test
  void anIdTheShownOutputHasBecomesTheRealOutputsIdButShortWordsStay() {
    Map<String, String> values = shownValues(
        "{\"id\": \"cmpl-8GztoD3t\", \"object\": \"job\", \"choices\": [{\"text\": \"shown text here\"}]}",
        "{\"id\": \"cmpl-realreal\", \"object\": \"other\", \"choices\": [{\"text\": \"real text here\"}]}");

    assertThat(values).containsExactly(Map.entry("cmpl-8GztoD3t", "cmpl-realreal"),
        Map.entry("shown text here", "real text here"));
    assertThat(shownValues("not json", "{\"id\": \"x\"}")).isEmpty();
  }

  @TestFactory
  Stream<DynamicTest> everyRunnableCodeBlockExitsZeroAgainstARealPipeline() throws Exception {
    Commands.requireClients();
    pipeline = TestPipeline.start();
    // The README says python3; Debian's is the one with the Kafka and Avro clients.
    bin = Files.createTempDirectory("aigc-readme-bin");
    Files.createSymbolicLink(bin.resolve("python3"), Path.of(Commands.PYTHON));
    return blocks().stream().filter(Block::runs)
        .map(block -> DynamicTest.dynamicTest(block.name(), () -> run(block)));
  }

  @AfterAll
  static void stopPipeline() throws IOException {
    if (pipeline != null) {
      pipeline.close();
    }
    if (bin != null) {
      Files.deleteIfExists(bin.resolve("python3"));
      Files.deleteIfExists(bin);
    }
  }

  static void run(Block block) throws IOException {
    String body = withTestDefaults(block.body());
    for (String fixed : DEFAULTS) {
      assertThat(body).as("%s uses %s, which the test cannot point at its own pipeline: use the README's usual "
          + "defaults (%s) or mark the block <!-- not run: reason -->", block.name(), fixed, "localhost:8080, "
          + "127.0.0.1:9092, $(cat .local/api-key)").doesNotContain(fixed);
    }
    if (block.language().equals("python")) {
      expectSuccess(block, script("block.py", body, List.of(Commands.PYTHON)));
    } else if (block.transcript()) {
      List<Command> commands = commands(body);
      for (int i = 0; i < commands.size(); i++) {
        Commands.Result result = expectSuccess(block, script("command.sh", PREAMBLE + commands.get(i).text(),
            List.of("bash")));
        // The ids the README shows in this output and uses in the next commands: this run's ids instead.
        for (Map.Entry<String, String> shown : shownValues(commands.get(i).shown(), result.out()).entrySet()) {
          for (int j = i + 1; j < commands.size(); j++) {
            commands.set(j, new Command(commands.get(j).text().replace(shown.getKey(), shown.getValue()),
                commands.get(j).shown()));
          }
        }
      }
    } else {
      expectSuccess(block, script("block.sh", PREAMBLE + body, List.of("bash")));
    }
  }

  static String withTestDefaults(String body) {
    String gateway = "127.0.0.1:" + pipeline.gatewayPort();
    return body.replace("localhost:8080", gateway).replace("127.0.0.1:8080", gateway)
        .replace("127.0.0.1:9092", pipeline.bootstrapServers()).replace("localhost:9092", pipeline.bootstrapServers())
        .replace("$(cat .local/api-key)", pipeline.apiKey());
  }

  /** A transcript's commands ("$ " lines and their continuations), each with the output shown after it. */
  static List<Command> commands(String body) {
    List<Command> commands = new ArrayList<>();
    StringBuilder text = null;
    StringBuilder shown = new StringBuilder();
    boolean continued = false;
    for (String line : body.lines().toList()) {
      if (line.startsWith("$ ") || continued) {
        if (line.startsWith("$ ") && !continued) {
          if (text != null) {
            commands.add(new Command(text.toString(), shown.toString()));
          }
          text = new StringBuilder(line.substring(2));
          shown.setLength(0);
        } else {
          text.append('\n').append(line);
        }
        continued = line.endsWith("\\");
      } else {
        shown.append(line).append('\n');
      }
    }
    if (text != null) {
      commands.add(new Command(text.toString(), shown.toString()));
    }
    return commands;
  }

  /**
   * The strings of the shown JSON output paired with the real output's at the same place, where they differ: ids,
   * times. Short strings ("job", "done") are left alone, so that a command is never rewritten by accident.
   */
  static Map<String, String> shownValues(String shown, String actual) {
    Map<String, String> values = new LinkedHashMap<>();
    try {
      pair(JSON.readTree(shown), JSON.readTree(actual), values);
    } catch (JsonProcessingException e) {
      return Map.of(); // not JSON on either side: nothing to carry over
    }
    values.entrySet().removeIf(e -> e.getKey().length() < 8 || e.getKey().equals(e.getValue()));
    return values;
  }

  private static void pair(JsonNode shown, JsonNode actual, Map<String, String> values) {
    if (shown == null || actual == null) {
      return;
    }
    if (shown.isTextual() && actual.isTextual()) {
      values.putIfAbsent(shown.asText(), actual.asText());
    } else if (shown.isArray()) {
      for (int i = 0; i < shown.size(); i++) {
        pair(shown.get(i), actual.get(i), values);
      }
    } else if (shown.isObject()) {
      for (Iterator<String> names = shown.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        pair(shown.get(name), actual.get(name), values);
      }
    }
  }

  private static Commands.Result script(String file, String text, List<String> interpreter) throws IOException {
    Path dir = Files.createTempDirectory("aigc-readme");
    Path script = dir.resolve(file);
    try {
      Files.writeString(script, text);
      List<String> command = new ArrayList<>(interpreter);
      command.add(script.toString());
      Map<String, String> env = new LinkedHashMap<>(pipeline.clientEnv());
      env.put("PATH", bin + ":" + System.getenv("PATH"));
      return Commands.run(command, env, TIMEOUT);
    } finally {
      Files.deleteIfExists(script);
      Files.deleteIfExists(dir);
    }
  }

  private static Commands.Result expectSuccess(Block block, Commands.Result result) {
    assertThat(result.exit()).as("%s\n%s", block.name(), result).isZero();
    return result;
  }
}
