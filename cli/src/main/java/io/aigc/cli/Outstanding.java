package io.aigc.cli;

import picocli.CommandLine.Option;

/** {@code --max-outstanding}, which both commands take: how many of their jobs may wait for an answer at once. */
final class Outstanding {
  @Option(names = "--max-outstanding", paramLabel = "N", defaultValue = "64",
      description = "Jobs published and not yet answered, at most (default: ${DEFAULT-VALUE}).")
  private int max;

  /** The bound; refuses a value under 1 with the option's name. */
  int max() {
    if (max < 1) {
      throw new IllegalArgumentException("--max-outstanding must be at least 1");
    }
    return max;
  }
}
