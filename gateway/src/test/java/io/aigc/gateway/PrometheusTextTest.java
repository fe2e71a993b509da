package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.runtime.Metrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  @Test
  void readsWhatTheServicesWrite() throws Exception {
    // The services' own writer, with each kind of metric the pipeline panel reads.
    PrometheusRegistry registry = new PrometheusRegistry();
    Counter deadLetters = Metrics.counter(registry, "aigc_worker_dead_letters_total", "dead letters", "reason");
    Metrics.counter(registry, "aigc_tokenizer_dead_letters_total", "none yet", "reason");
    Metrics.counter(registry, "aigc_tokenizer_requests_tokenized_total", "unlabelled: written from the start");
    Histogram rows = Metrics.sizes(registry, "aigc_worker_batch_rows", "rows", new double[] {1, 2, 4});
    Metrics.gauge(registry, "aigc_worker_running_sequences", "rows now", () -> 3);
    deadLetters.labelValues("not_avro").inc(2);
    deadLetters.labelValues("unknown_schema").inc();
    rows.observe(2);
    rows.observe(4);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, registry.scrape());

    PrometheusText text = PrometheusText.parse(out.toString(StandardCharsets.UTF_8));

    assertThat(text.sum("aigc_worker_dead_letters_total")).isEqualTo(3);
    assertThat(text.sum("aigc_worker_batch_rows_sum")).isEqualTo(6);
    assertThat(text.sum("aigc_worker_batch_rows_count")).isEqualTo(2);
    assertThat(text.sum("aigc_worker_running_sequences")).isEqualTo(3);
    // A labelled counter has no sample until its first label value; an unlabelled one names its service at once.
    assertThat(text.has("aigc_tokenizer_dead_letters_total")).isFalse();
    assertThat(text.sum("aigc_tokenizer_dead_letters_total")).isZero();
    assertThat(text.has("aigc_tokenizer_requests_tokenized_total")).isTrue();
    assertThat(text.mentions("aigc_tokenizer_")).isTrue();
  }

  @Test
  void readsLabelsEscapesSpecialValuesAndTimestamps() {
    PrometheusText text = PrometheusText.parse("""
        # HELP x_total A counter, with a # in its help
        # TYPE x_total counter
        x_total{path="/a\\"b\\\\c\\nd",code="200"} 4 1700000000000
        x_total{code="500",} 1.5e1
        up NaN
        big +Inf
        small -Inf
        """);
    assertThat(text.samples()).hasSize(5);
    assertThat(text.samples().get(0).labels()).isEqualTo(Map.of("path", "/a\"b\\c\nd", "code", "200"));
    assertThat(text.sum("x_total")).isEqualTo(19);
    assertThat(text.sum("up")).isNaN();
    assertThat(text.sum("big")).isInfinite();
    assertThat(text.families()).containsExactly("x_total");
  }

  @Test
  void skipsLinesItCannotRead() {
    PrometheusText text = PrometheusText.parse("""
        <html>not metrics</html>
        good 1
        {no_name="x"} 2
        unterminated{a="b 3
        no_value
        bad_value abc
        good{a="1"} 2
        """);
    assertThat(text.samples()).extracting(PrometheusText.Sample::name).containsExactly("good", "good");
    assertThat(text.sum("good")).isEqualTo(3);
  }
}
