package io.aigc.runtime;

import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code main} of every service: read the environment, start, and stop cleanly on SIGTERM or Ctrl-C. */
public final class ServiceMain {
  private static final Logger log = LoggerFactory.getLogger(ServiceMain.class);

  private ServiceMain() {}

  public static void run(Function<Env, Service> factory) {
    Service service;
    try {
      service = factory.apply(Env.system());
    } catch (IllegalArgumentException e) {
      // A configuration mistake: say which variable, and do not let a supervisor restart into the same error silently.
      log.error("configuration error: {}", e.getMessage());
      System.exit(2);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("{} stopping", service.name());
      service.close();
      stopped.countDown();
    }, service.name() + "-shutdown"));
    try {
      service.start();
      log.info("{} started", service.name());
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.error("{} failed to start", service.name(), e);
      System.exit(1);
    }
  }
}
