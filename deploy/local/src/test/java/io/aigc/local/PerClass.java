package io.aigc.local;

import java.util.concurrent.Callable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Something a test class's tests share (a pipeline, a cluster of processes), started before its first test and closed
 * after its last, however they ended: {@code @RegisterExtension static final PerClass<TestPipeline> pipeline =
 * TestPipeline.perClass();}, then {@code pipeline.get()} in the tests.
 */
final class PerClass<T extends AutoCloseable> implements BeforeAllCallback, AfterAllCallback {
  private final Callable<T> start;
  private T started;

  PerClass(Callable<T> start) {
    this.start = start;
  }

  T get() {
    if (started == null) {
      throw new IllegalStateException("started before the class's first test, and not yet");
    }
    return started;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    started = start.call();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (started != null) {
      T closing = started;
      started = null;
      closing.close();
    }
  }
}
