package io.aigc.runtime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Configuration as environment variables (12-factor), read with their documented defaults. A value that does
 * not parse fails at startup with a message naming the variable, never later with a confusing stack trace.
 *
 * <p>An {@code Env} is a value, not a global: the local launcher runs several services in one JVM and gives each
 * its own overrides on top of the process environment.
 *
 * <p>Every read goes through {@link #optional}, {@link #verbatim} or {@link #startingWith}, so an environment can
 * tell which variables were asked for ({@link #read()}): the test that keeps the README's configuration tables
 * true reads each service's configuration from an empty environment and compares.
 */
public final class Env {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");
  private final Map<String, String> vars;
  /** Names read, shared with the environments made from this one; a prefix read is recorded as {@code PREFIX*}. */
  private final Set<String> read;

  private Env(Map<String, String> vars, Set<String> read) {
    this.vars = Map.copyOf(vars);
    this.read = read;
  }

  public static Env system() {
    return of(System.getenv());
  }

  public static Env of(Map<String, String> vars) {
    return new Env(vars, new ConcurrentSkipListSet<>());
  }

  /** This environment with some variables replaced or added; what either reads counts as read by both. */
  public Env with(Map<String, String> overrides) {
    Map<String, String> merged = new HashMap<>(vars);
    merged.putAll(overrides);
    return new Env(merged, read);
  }

  /** The variables asked for so far, set or not, by this environment and those made from it. */
  public Set<String> read() {
    return new TreeSet<>(read);
  }

  public Optional<String> optional(String name) {
    read.add(name);
    String value = vars.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  /** The value exactly as set, blanks and newlines included (a template's), or null. */
  public String verbatim(String name) {
    read.add(name);
    return vars.get(name);
  }

  /** The variables whose names start with {@code prefix}, by name. */
  public Map<String, String> startingWith(String prefix) {
    read.add(prefix + "*");
    Map<String, String> matching = new TreeMap<>();
    vars.forEach((name, value) -> {
      if (name.startsWith(prefix)) {
        matching.put(name, value);
      }
    });
    return matching;
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

  /** An integer of at least 1, or a startup error naming the variable. */
  public int positiveInt(String name, int defaultValue) {
    int value = integer(name, defaultValue);
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, got " + value);
    }
    return value;
  }

  /** A duration longer than zero, or a startup error naming the variable. */
  public Duration positiveDuration(String name, Duration defaultValue) {
    Duration value = duration(name, defaultValue);
    if (value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
    return value;
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
