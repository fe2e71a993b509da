package io.aigc.runtime;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.function.DoubleSupplier;

/**
 * The Prometheus metrics every service declares, each in one call: a name, a help text, its labels. Histograms are
 * classic (explicit buckets), which every Prometheus and Grafana reads.
 */
public final class Metrics {
  private Metrics() {}

  public static Counter counter(PrometheusRegistry registry, String name, String help, String... labels) {
    return Counter.builder().name(name).help(help).labelNames(labels).register(registry);
  }

  /** A histogram of seconds with these bucket bounds. */
  public static Histogram seconds(PrometheusRegistry registry, String name, String help, double[] bounds,
      String... labels) {
    return Histogram.builder().name(name).help(help).unit(Unit.SECONDS).labelNames(labels).classicOnly()
        .classicUpperBounds(bounds).register(registry);
  }

  /** A histogram of plain counts (tokens, rows) with these bucket bounds. */
  public static Histogram sizes(PrometheusRegistry registry, String name, String help, double[] bounds) {
    return Histogram.builder().name(name).help(help).classicOnly().classicUpperBounds(bounds).register(registry);
  }

  /** Bounds {@code start}, {@code start * factor}, ... ({@code count} of them). */
  public static double[] exponential(double start, double factor, int count) {
    double[] bounds = new double[count];
    for (int i = 0; i < count; i++) {
      bounds[i] = start * Math.pow(factor, i);
    }
    return bounds;
  }

  /** A gauge with one label of a fixed value (a worker's model, say), read when scraped; negative: no sample. */
  public static void gauge(PrometheusRegistry registry, String name, String help, String label, String labelValue,
      DoubleSupplier value) {
    GaugeWithCallback.builder().name(name).help(help).labelNames(label).callback(cb -> {
      double v = value.getAsDouble();
      if (v >= 0) {
        cb.call(v, labelValue);
      }
    }).register(registry);
  }

  /** A gauge read when scraped; a negative value means unknown, and leaves the gauge without a sample. */
  public static void gauge(PrometheusRegistry registry, String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder().name(name).help(help).callback(cb -> {
      double v = value.getAsDouble();
      if (v >= 0) {
        cb.call(v);
      }
    }).register(registry);
  }
}
