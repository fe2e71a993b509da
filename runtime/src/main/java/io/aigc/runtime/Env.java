package io.aigc.runtime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Configuration as environment variables (12-factor), read with their documented defaults. A value that does
 * not parse fails at startup with a message naming the variable, never later with a confusing stack trace.
 *
 * <p>An {@code Env} is a value, not a global: the local launcher runs several services in one JVM and gives each
 * its own overrides on top of the process environment.
 */
public final class Env {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");
  private final Map<String, String> vars;

  private Env(Map<String, String> vars) {
    this.vars = Map.copyOf(vars);
  }

  public static Env system() {
    return new Env(System.getenv());
  }

  public static Env of(Map<String, String> vars) {
    return new Env(vars);
  }

  /** This environment with some variables replaced or added. */
  public Env with(Map<String, String> overrides) {
    Map<String, String> merged = new HashMap<>(vars);
    merged.putAll(overrides);
    return new Env(merged);
  }

  public Map<String, String> asMap() {
    return vars;
  }

  public Optional<String> optional(String name) {
    String value = vars.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  public String string(String name, String defaultValue) {
    return optional(name).orElse(defaultValue);
  }

  public int integer(String name, int defaultValue) {
    return optional(name).map(v -> parse(name, v, "an integer", Integer::parseInt)).orElse(defaultValue);
  }

  public long longValue(String name, long defaultValue) {
    return optional(name).map(v -> parse(name, v, "an integer", Long::parseLong)).orElse(defaultValue);
  }

  public double decimal(String name, double defaultValue) {
    return optional(name).map(v -> parse(name, v, "a number", Double::parseDouble)).orElse(defaultValue);
  }

  public boolean bool(String name, boolean defaultValue) {
    return optional(name).map(v -> switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw invalid(name, v, "true or false");
    }).orElse(defaultValue);
  }

  /** A duration such as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h} or {@code 7d}; a bare number is milliseconds. */
  public Duration duration(String name, Duration defaultValue) {
    return optional(name).map(v -> {
      Matcher m = DURATION.matcher(v);
      if (!m.matches()) {
        throw invalid(name, v, "a duration like 500ms, 30s, 5m, 1h or 7d");
      }
      long amount = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "ms" : m.group(2);
      return switch (unit) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "h" -> Duration.ofHours(amount);
        default -> Duration.ofDays(amount);
      };
    }).orElse(defaultValue);
  }

  public Path path(String name, Path defaultValue) {
    return optional(name).map(Path::of).orElse(defaultValue);
  }

  private interface Parser<T> {
    T parse(String value);
  }

  private static <T> T parse(String name, String value, String expected, Parser<T> parser) {
    try {
      return parser.parse(value);
    } catch (NumberFormatException e) {
      throw invalid(name, value, expected);
    }
  }

  private static IllegalArgumentException invalid(String name, String value, String expected) {
    return new IllegalArgumentException(name + " must be " + expected + ", got '" + value + "'");
  }
}
