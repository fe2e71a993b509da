package io.aigc.tokenizer;

import io.aigc.runtime.StreamsService;
import io.aigc.runtime.model.ModelDirectory;
import io.aigc.runtime.model.TextTokenizer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The tokenizer-service: {@link TokenizerTopology} run by a {@link StreamsService} with exactly-once processing. */
public final class TokenizerService {
  static final String NAME = "tokenizer-service";

  private TokenizerService() {}

  /** Loads the model's tokenizer now, so a wrong {@code AIGC_MODEL_DIR} fails at startup. */
  public static StreamsService create(TokenizerConfig config) {
    ModelDirectory model = ModelDirectory.open(config.modelDir());
    TextTokenizer tokenizer = TextTokenizer.load(model);
    try {
      PrometheusRegistry registry = new PrometheusRegistry();
      return new StreamsService(NAME, TokenizerTopology.build(config, model, tokenizer, new TokenizerMetrics(registry)),
          config.topics().all(), config.env(), "aigc-tokenizer", 9101, registry, tokenizer);
    } catch (RuntimeException | Error e) {
      tokenizer.close();
      throw e;
    }
  }
}
