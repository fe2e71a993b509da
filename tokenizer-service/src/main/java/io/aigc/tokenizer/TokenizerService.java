package io.aigc.tokenizer;

import io.aigc.runtime.streams.StreamsService;
import io.aigc.model.ModelDirectory;
import io.aigc.text.TextTokenizer;
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
          config.common(), config.streams(), registry, tokenizer);
    } catch (RuntimeException | Error e) {
      tokenizer.close();
      throw e;
    }
  }
}
