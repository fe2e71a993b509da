package io.aigc.gateway;

import io.aigc.runtime.ServiceMain;

/** {@code java -jar gateway.jar}: the gateway as its own process, configured by environment variables. */
public final class GatewayMain {
  private GatewayMain() {}

  public static void main(String[] args) {
    ServiceMain.run(env -> new GatewayService(GatewayConfig.fromEnv(env)));
  }
}
