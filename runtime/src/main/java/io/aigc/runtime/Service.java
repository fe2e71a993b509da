package io.aigc.runtime;

/**
 * The lifecycle every service shares, so the launcher can run them all in one JVM or each in its own process
 * with the same code.
 */
public interface Service extends AutoCloseable {
  /** A short name for logs and metrics, e.g. {@code tokenizer-service}. */
  String name();

  /** Starts the service and returns; work continues on the service's own threads. */
  void start() throws Exception;

  /** Whether the service can do its work now (its broker is reachable, its topics exist). */
  boolean ready();

  /** Stops cleanly: finishes or hands back in-flight work, commits what is done, releases resources. */
  @Override
  void close();
}
