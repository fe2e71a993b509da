package io.aigc.postprocessor;

import io.aigc.runtime.ServiceMain;

public final class PostprocessorMain {
  private PostprocessorMain() {}

  public static void main(String[] args) {
    ServiceMain.run(env -> CompletionTopology.service(PostprocessorConfig.fromEnv(env)));
  }
}
