package io.aigc.cli;

import io.aigc.runtime.Env;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code aigc}: the pipeline from a terminal, straight to Kafka (no gateway in between). Two commands, {@code batch}
 * and {@code replay}. Exit codes: 0 done; 1 an error (said on stderr); 2 a usage error; 3 a batch done whose output
 * has failed lines; 130 stopped by Ctrl-C, 143 by SIGTERM (rerun to resume).
 */
@Command(name = "aigc", mixinStandardHelpOptions = true, version = "aigc 0.1.0",
    subcommands = {BatchCommand.class, ReplayCommand.class},
    description = "Generation jobs from a terminal, straight to Kafka. Reads KAFKA_BOOTSTRAP_SERVERS (default "
        + "127.0.0.1:9092), the other KAFKA_* settings and AIGC_TOPIC_* as the services do, and the gateway's "
        + "AIGC_TASKS_FILE.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:an error (said on stderr)", "2:a usage error",
        "3:a batch finished, and some of its lines failed (their errors are in the output)",
        "130:stopped by Ctrl-C (143: by SIGTERM); run the same command again to resume"})
public final class AigcMain implements Runnable {
  static final int FAILED_LINES = 3;
  static final int INTERRUPTED = 130;

  final Env env;
  final BooleanSupplier stop;
  final PrintStream err;

  AigcMain(Env env, BooleanSupplier stop, PrintStream err) {
    this.env = env;
    this.stop = stop;
    this.err = err;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "name a command: batch or replay");
  }

  public static void main(String[] args) {
    // A terminal is no service log: Kafka's clients say only what stops the command (set before any logger exists).
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "aigc-cli-log4j2.xml");
    }
    // Ctrl-C asks the running command to stop between two polls; the JVM waits for it to leave its files whole.
    CountDownLatch finished = new CountDownLatch(1);
    Thread main = Thread.currentThread();
    AtomicBoolean interrupted = new AtomicBoolean();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      interrupted.set(true);
      try {
        finished.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        main.interrupt();
      }
    }, "aigc-stop"));
    int code;
    try {
      code = execute(Env.system(), interrupted::get, System.err, args);
    } finally {
      finished.countDown();
    }
    if (!interrupted.get()) {
      System.exit(code);
    }
    // Stopped by a signal: the JVM is exiting already (with 130), and exit() now would wait for ever.
  }

  /**
   * Runs {@code args} as the command line does, with the environment {@code env}, {@code stop} standing for Ctrl-C
   * (checked between polls) and messages and progress on {@code err}; returns the exit code.
   */
  public static int execute(Env env, BooleanSupplier stop, PrintStream err, String... args) {
    CommandLine cli = new CommandLine(new AigcMain(env, stop, err));
    cli.setErr(new PrintWriter(err, true));
    cli.setExecutionExceptionHandler((e, line, parsed) -> {
      line.getErr().println("aigc: " + (e instanceof CliException || e instanceof IllegalArgumentException
          ? e.getMessage() : e.toString()));
      return CommandLine.ExitCode.SOFTWARE;
    });
    return cli.execute(args);
  }

  /** The progress of a command on stderr: a bar on a terminal, lines otherwise. */
  Progress.Factory progress(String what) {
    return (total, succeeded, failed) -> new Progress(err, Progress.onTerminal(), what, total, succeeded, failed);
  }

  /** Times as options take them, relative ones to when the command line is read. */
  static final class TimeConverter implements CommandLine.ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      return Times.parse(value, Instant.now().truncatedTo(ChronoUnit.MILLIS));
    }
  }
}
