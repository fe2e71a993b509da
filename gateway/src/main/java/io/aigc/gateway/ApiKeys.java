package io.aigc.gateway;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The API keys callers may present, known only by their SHA-256: the gateway never holds a key in plain text, so a
 * leaked configuration or heap dump leaks no key. Each key has a name, which is what logs, metrics and the job's
 * metadata show of the caller.
 *
 * <p>Entries read {@code name:sha256hex}: a name of 1 to 64 characters from {@code [A-Za-z0-9._-]} starting with a
 * letter or digit (it becomes a metric label), a colon, and the 64 hex digits of the SHA-256 of the key's UTF-8
 * bytes (for example {@code printf %s "$KEY" | sha256sum}). Names and hashes are unique. Error messages name the
 * entry by its position and name, never by its value: a mistaken entry may hold a key in plain text.
 *
 * <p>Immutable and thread-safe.
 */
final class ApiKeys {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

  private record Entry(String name, byte[] hash) {}

  private final List<Entry> entries;
  private final Set<String> names;

  private ApiKeys(List<Entry> entries) {
    this.entries = List.copyOf(entries);
    Set<String> names = new LinkedHashSet<>();
    entries.forEach(e -> names.add(e.name()));
    this.names = Set.copyOf(names);
  }

  /** No keys: every presented key is refused. */
  static ApiKeys none() {
    return new ApiKeys(List.of());
  }

  /**
   * Parses entries, one per element; blank elements and elements starting with {@code #} are skipped.
   * {@code source} names where they come from in error messages (e.g. {@code AIGC_API_KEYS entry} or
   * {@code AIGC_API_KEYS_FILE line}); element {@code i} is reported as number {@code i + 1}.
   */
  static ApiKeys parse(String source, List<String> elements) {
    List<Entry> entries = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<String> hashes = new HashSet<>();
    for (int i = 0; i < elements.size(); i++) {
      String element = elements.get(i).strip();
      if (element.isEmpty() || element.startsWith("#")) {
        continue;
      }
      String where = source + " " + (i + 1);
      int colon = element.indexOf(':');
      String name = colon < 0 ? "" : element.substring(0, colon).strip();
      String hash = colon < 0 ? "" : element.substring(colon + 1).strip().toLowerCase(Locale.ROOT);
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(where + ": expected name:sha256hex with a name of 1 to 64 characters "
            + "[A-Za-z0-9._-] starting with a letter or digit");
      }
      if (!SHA256_HEX.matcher(hash).matches()) {
        throw new IllegalArgumentException(where + " ('" + name + "'): expected the SHA-256 of the key as 64 hex "
            + "digits after the colon (never the key itself)");
      }
      if (!names.add(name)) {
        throw new IllegalArgumentException(where + ": the name '" + name + "' is used twice");
      }
      if (!hashes.add(hash)) {
        throw new IllegalArgumentException(where + " ('" + name + "'): the same key is configured twice, under "
            + "two names; each key needs one name so its caller is known");
      }
      entries.add(new Entry(name, HexFormat.of().parseHex(hash)));
    }
    return new ApiKeys(entries);
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  /** The configured names, which bound every per-caller map and metric label. */
  Set<String> names() {
    return names;
  }

  /**
   * The name of {@code key}, or empty. Every configured hash is compared, in constant time and without stopping
   * at a match, so the time taken says nothing about which hash (or how much of one) matched.
   */
  Optional<String> nameOf(String key) {
    byte[] presented = sha256(key);
    String match = null;
    for (Entry entry : entries) {
      if (MessageDigest.isEqual(entry.hash(), presented)) {
        match = entry.name();
      }
    }
    return Optional.ofNullable(match);
  }

  static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Names only: hashes have no business in a log line either. */
  @Override
  public String toString() {
    return "ApiKeys" + entries.stream().map(Entry::name).toList();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ApiKeys other) || other.entries.size() != entries.size()) {
      return false;
    }
    for (int i = 0; i < entries.size(); i++) {
      Entry a = entries.get(i);
      Entry b = other.entries.get(i);
      if (!a.name().equals(b.name()) || !MessageDigest.isEqual(a.hash(), b.hash())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return names.hashCode();
  }
}
