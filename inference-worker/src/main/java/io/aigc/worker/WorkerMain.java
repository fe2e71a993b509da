package io.aigc.worker;

import io.aigc.runtime.ServiceMain;

/** Runs one inference worker; see {@link WorkerConfig} for its environment variables. */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) {
    ServiceMain.run(env -> new WorkerService(WorkerConfig.fromEnv(env)));
  }
}
