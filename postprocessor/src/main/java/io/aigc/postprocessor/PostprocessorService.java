package io.aigc.postprocessor;

import io.aigc.runtime.streams.StreamsService;
import io.aigc.model.ModelDirectory;
import io.aigc.text.TextTokenizer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The postprocessor: {@link CompletionTopology} run by a {@link StreamsService} with exactly-once processing. */
public final class PostprocessorService {
  static final String NAME = "postprocessor";

  private PostprocessorService() {}

  /** Loads the model's tokenizer now, so a wrong {@code AIGC_MODEL_DIR} fails at startup. */
  public static StreamsService create(PostprocessorConfig config) {
    ModelDirectory model = ModelDirectory.open(config.modelDir());
    TextTokenizer tokenizer = TextTokenizer.load(model);
    try {
      PrometheusRegistry registry = new PrometheusRegistry();
      return new StreamsService(NAME, CompletionTopology.build(config, model, tokenizer, new PostprocessorMetrics(registry)),
          config.common(), config.streams(), registry, tokenizer);
    } catch (RuntimeException | Error e) {
      tokenizer.close();
      throw e;
    }
  }
}
