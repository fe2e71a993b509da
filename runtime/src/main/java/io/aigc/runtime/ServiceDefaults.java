package io.aigc.runtime;

/**
 * Defaults that more than one service (or the launcher) must agree on, stated once: consumer groups another service
 * watches, and the ports the local launcher gives each service.
 */
public final class ServiceDefaults {
  /** The tokenizer-service's Streams application id, which is its consumer group on the requests topic. */
  public static final String TOKENIZER_APPLICATION_ID = "aigc-tokenizer";
  /** The postprocessor's Streams application id. */
  public static final String POSTPROCESSOR_APPLICATION_ID = "aigc-postprocessor";
  /**
   * The prefix of the inference workers' consumer groups: the workers of one model share the group
   * {@code <prefix>.<model>} ({@link #workerGroup}) on that model's tokenized topic.
   */
  public static final String WORKER_GROUP = "aigc-inference-worker";
  public static final int GATEWAY_HTTP_PORT = 8080;
  public static final int TOKENIZER_METRICS_PORT = 9101;
  public static final int WORKER_METRICS_PORT = 9102;
  public static final int POSTPROCESSOR_METRICS_PORT = 9103;

  private ServiceDefaults() {}

  /** The consumer group of {@code model}'s worker pool, from the {@code AIGC_WORKER_GROUP} prefix. */
  public static String workerGroup(String prefix, String model) {
    return prefix + "." + model;
  }
}
