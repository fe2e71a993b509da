package io.aigc.gateway;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a service's {@code /metrics} says, read from Prometheus' text exposition format (version 0.0.4, which every
 * service here writes, and OpenMetrics' text, which differs only in what this ignores). The Prometheus Java client
 * writes this format but has no parser for it; this reads the samples and the declared metric families, nothing more.
 *
 * @param samples every sample line, in order
 * @param families the names declared by {@code # TYPE} lines, so a service is known by its metrics before they have
 *     samples (a labelled counter has none until its first label value)
 */
record PrometheusText(List<Sample> samples, Set<String> families) {
  /** One sample: {@code name{labels} value}. */
  record Sample(String name, Map<String, String> labels, double value) {}

  PrometheusText {
    samples = List.copyOf(samples);
    families = Set.copyOf(families);
  }

  /**
   * Reads an exposition; a line that cannot be read is skipped (a scraper must not fail on one odd line of a
   * service it does not own), so a reader asks only for the names it knows.
   */
  static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    Set<String> families = new LinkedHashSet<>();
    for (String raw : text.split("\n", -1)) {
      String line = raw.strip();
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        String[] words = line.split("\\s+", 4);
        if (words.length >= 3 && words[1].equals("TYPE")) {
          families.add(words[2]);
        }
        continue;
      }
      Sample sample = sample(line);
      if (sample != null) {
        samples.add(sample);
      }
    }
    return new PrometheusText(samples, families);
  }

  /** The sum of the samples named {@code name}, over all their labels; 0 when there is none. */
  double sum(String name) {
    double sum = 0;
    for (Sample s : samples) {
      if (s.name().equals(name)) {
        sum += s.value();
      }
    }
    return sum;
  }

  /** Whether any sample is named {@code name}. */
  boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name().equals(name));
  }

  /** Whether a family or a sample starts with {@code prefix}: the metrics of one kind of service. */
  boolean mentions(String prefix) {
    return families.stream().anyMatch(f -> f.startsWith(prefix))
        || samples.stream().anyMatch(s -> s.name().startsWith(prefix));
  }

  private static Sample sample(String line) {
    int i = 0;
    int n = line.length();
    while (i < n && isNameChar(line.charAt(i), i == 0)) {
      i++;
    }
    if (i == 0) {
      return null;
    }
    String name = line.substring(0, i);
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < n && line.charAt(i) == '{') {
      i = labels(line, i + 1, labels);
      if (i < 0) {
        return null;
      }
    }
    String[] rest = line.substring(i).strip().split("\\s+");
    if (rest.length == 0 || rest[0].isEmpty()) {
      return null;
    }
    Double value = value(rest[0]);
    return value == null ? null : new Sample(name, labels, value);
  }

  /** Reads {@code a="x",b="y"}} from {@code i}; the index after the closing brace, or -1 when malformed. */
  private static int labels(String line, int i, Map<String, String> into) {
    int n = line.length();
    while (true) {
      while (i < n && (line.charAt(i) == ' ' || line.charAt(i) == ',')) {
        i++;
      }
      if (i >= n) {
        return -1;
      }
      if (line.charAt(i) == '}') {
        return i + 1;
      }
      int start = i;
      while (i < n && isNameChar(line.charAt(i), i == start)) {
        i++;
      }
      String label = line.substring(start, i);
      while (i < n && line.charAt(i) == ' ') {
        i++;
      }
      if (label.isEmpty() || i + 1 >= n || line.charAt(i) != '=' || line.charAt(i + 1) != '"') {
        return -1;
      }
      i += 2;
      StringBuilder value = new StringBuilder();
      while (i < n && line.charAt(i) != '"') {
        char c = line.charAt(i);
        if (c == '\\' && i + 1 < n) {
          char next = line.charAt(++i);
          value.append(next == 'n' ? '\n' : next);
        } else {
          value.append(c);
        }
        i++;
      }
      if (i >= n) {
        return -1;
      }
      into.put(label, value.toString());
      i++;
    }
  }

  private static Double value(String text) {
    return switch (text) {
      case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> {
        try {
          yield Double.parseDouble(text);
        } catch (NumberFormatException e) {
          yield null;
        }
      }
    };
  }

  private static boolean isNameChar(char c, boolean first) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || !first && c >= '0' && c <= '9';
  }
}
