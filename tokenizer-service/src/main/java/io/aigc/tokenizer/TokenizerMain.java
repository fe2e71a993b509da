package io.aigc.tokenizer;

import io.aigc.runtime.ServiceMain;

public final class TokenizerMain {
  private TokenizerMain() {}

  public static void main(String[] args) {
    ServiceMain.run(env -> TokenizerTopology.service(TokenizerConfig.fromEnv(env)));
  }
}
