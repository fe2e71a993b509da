package io.aigc.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code aigc replay --from TIME [--to TIME] [--model NAME] [--task NAME] -o report}: see {@link Replay}. */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = {"Publishes the requests of a time window again as new jobs (new ids, replay_of in their "
        + "metadata), waits for their completions, and writes a report comparing old and new: identical, changed, "
        + "errors, lengths and finish reasons.",
        "TIME is now, relative (-1h, -30m, -2d, -1h30m) or ISO-8601 (2026-12-01T02:00:00Z, 2026-12-01)."})
final class ReplayCommand implements Callable<Integer> {
  @ParentCommand
  AigcMain main;

  @Mixin
  Outstanding outstanding;

  @Option(names = "--from", required = true, paramLabel = "TIME", converter = AigcMain.TimeConverter.class,
      description = "The window's start (requests by their record timestamps).")
  Instant from;

  @Option(names = "--to", paramLabel = "TIME", defaultValue = "now", converter = AigcMain.TimeConverter.class,
      description = "The window's end, excluded (default: now).")
  Instant to;

  @Option(names = "--model", paramLabel = "NAME",
      description = "Replay on this model (the requests' model field); default: each request's own.")
  String model;

  @Option(names = "--task", paramLabel = "NAME",
      description = "Only requests of this task (their task, or for one without, their metadata's \"task\").")
  String task;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
      description = "The report: JSON if FILE ends in .json, Markdown otherwise.")
  Path output;

  @Override
  public Integer call() throws Exception {
    if (!from.isBefore(to)) {
      throw new IllegalArgumentException("--from (" + from + ") must be before --to (" + to + ")");
    }
    Replay.Options options = new Replay.Options(from, to, model, task, outstanding.max());
    Replay.Result result = Replay.run(CliConfig.fromEnv(main.env), options, main.progress("replayed"), main.stop);
    ReplayReport report = ReplayReport.of(options, result);
    Files.writeString(output, output.getFileName().toString().endsWith(".json") ? report.json() : report.markdown());
    main.err.println("aigc: " + report.summary() + "; report in " + output);
    return result.finished() ? 0 : AigcMain.INTERRUPTED;
  }
}
