package io.aigc.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code aigc batch input.jsonl -o results.jsonl}: see {@link Batch}. */
@Command(name = "batch", mixinStandardHelpOptions = true,
    description = {"Runs every line of an OpenAI batch input file (/v1/completions and /v1/chat/completions) as a "
        + "job and writes the answers in OpenAI's batch output format.",
        "Stopped (Ctrl-C), the same command resumes: lines answered stay, jobs published are awaited, not published "
            + "again. Progress goes to stderr."})
final class BatchCommand implements Callable<Integer> {
  @ParentCommand
  AigcMain main;

  @Parameters(index = "0", paramLabel = "INPUT", description = "The input: one {custom_id, method, url, body} per line.")
  Path input;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
      description = "Where the answers go, one line per input line; FILE.state beside it lets a rerun resume.")
  Path output;

  @Mixin
  Outstanding outstanding;

  @Override
  public Integer call() throws Exception {
    Batch.Result result = Batch.run(CliConfig.fromEnv(main.env), new Batch.Options(input, output, outstanding.max()),
        main.progress("done"), main.stop);
    int answered = result.succeeded() + result.failed();
    if (!result.finished()) {
      main.err.println("aigc: stopped with " + answered + " of " + result.total() + " lines answered; run the same "
          + "command again to resume (no line is published twice)");
      return AigcMain.INTERRUPTED;
    }
    main.err.println("aigc: " + result.succeeded() + " succeeded, " + result.failed() + " failed; answers in "
        + output);
    return result.failed() > 0 ? AigcMain.FAILED_LINES : 0;
  }
}
