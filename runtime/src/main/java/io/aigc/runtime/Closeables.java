package io.aigc.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shuts a service's parts down in the order given. A service closes whatever it started, also after a start that
 * failed halfway: a part never started is null and skipped, and a part that fails to close is logged, so the parts
 * after it still close.
 */
public final class Closeables {
  private static final Logger log = LoggerFactory.getLogger(Closeables.class);

  /** How one part closes, for parts whose own {@code close()} is not the way (a timeout, a drain). */
  public interface Closing<T> {
    void close(T part) throws Exception;
  }

  private Closeables() {}

  /** {@code part} closed by {@code how}; null when the part is null (never started). */
  public static <T> AutoCloseable closing(T part, Closing<T> how) {
    return part == null ? null : () -> how.close(part);
  }

  /** Closes each non-null part in turn; an interrupt is kept for the caller and ends nothing early. */
  public static void closeAll(AutoCloseable... parts) {
    boolean interrupted = false;
    for (AutoCloseable part : parts) {
      if (part == null) {
        continue;
      }
      try {
        part.close();
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (Exception e) {
        log.warn("closing a part failed; closing the rest", e);
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
