package io.aigc.cli;

/** A problem the user can fix (a bad input file, an output from another input, no pipeline): one line, no trace. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }
}
