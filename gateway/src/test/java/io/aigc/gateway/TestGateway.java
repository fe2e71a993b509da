package io.aigc.gateway;

import io.aigc.runtime.Env;
import io.aigc.runtime.testing.EmbeddedKafka;
import io.aigc.model.testing.TestModels;
import java.util.HashMap;
import java.util.Map;

/** A gateway on a free local port against a test broker, keyed for alice and bob, with test-friendly timers. */
final class TestGateway {
  private TestGateway() {}

  static GatewayService start(EmbeddedKafka kafka, Map<String, String> overrides) throws Exception {
    Map<String, String> vars = new HashMap<>(kafka.env());
    vars.put("AIGC_HTTP_HOST", "127.0.0.1");
    vars.put("AIGC_HTTP_PORT", "0");
    vars.put("AIGC_MODEL_DIR", TestModels.dir(TestModels.TINY_LLAMA).toString());
    vars.put("AIGC_TOPIC_PARTITIONS", "2");
    vars.put("AIGC_SYNC_TIMEOUT", "15s");
    vars.put("AIGC_READY_INTERVAL", "200ms");
    vars.put("AIGC_API_KEYS", TestKeys.aliceAndBob());
    vars.put("AIGC_RATE_LIMIT", "0");
    // Each gateway its own data folder (it is locked), unless the test shares one across a restart.
    vars.put("AIGC_DATA_DIR", java.nio.file.Files.createTempDirectory("aigc-gateway-data").toString());
    vars.putAll(overrides);
    GatewayService service = new GatewayService(GatewayConfig.fromEnv(Env.of(vars)));
    service.start();
    return service;
  }
}
