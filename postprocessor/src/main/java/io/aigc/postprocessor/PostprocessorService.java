package io.aigc.postprocessor;

import io.aigc.runtime.Service;
import io.aigc.runtime.StreamsService;
import io.aigc.runtime.model.ModelDirectory;
import io.aigc.runtime.model.TextTokenizer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The postprocessor: {@link CompletionTopology} run by a {@link StreamsService} with exactly-once processing. */
public final class PostprocessorService implements Service {
  static final String NAME = "postprocessor";

  private final TextTokenizer tokenizer;
  private final StreamsService streams;

  /** Loads the model's tokenizer now, so a wrong {@code AIGC_MODEL_DIR} fails at startup. */
  public PostprocessorService(PostprocessorConfig config) {
    ModelDirectory model = ModelDirectory.open(config.modelDir());
    this.tokenizer = TextTokenizer.load(model);
    PrometheusRegistry registry = new PrometheusRegistry();
    PostprocessorMetrics metrics = new PostprocessorMetrics(registry);
    this.streams = new StreamsService(NAME, CompletionTopology.build(config, model, tokenizer, metrics),
        config.topics().all(), config.env(), "aigc-postprocessor", 9103, registry);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start() throws Exception {
    streams.start();
  }

  @Override
  public boolean ready() {
    return streams.ready();
  }

  /** The port /metrics is served on, once started. */
  public int metricsPort() {
    return streams.metricsPort();
  }

  @Override
  public void close() {
    // Streams first: its threads use the tokenizer until they stop.
    streams.close();
    tokenizer.close();
  }
}
