package io.aigc.examples.news;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} command-line flags, as the Python examples take them. */
final class Flags {
  private Flags() {}

  static Map<String, String> parse(String[] args, List<String> known, String usage) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--help") || args[i].equals("-h")) {
        System.out.println("usage: " + usage);
        System.exit(0);
      }
      String name = args[i].startsWith("--") ? args[i].substring(2) : null;
      if (name == null || !known.contains(name) || i + 1 >= args.length) {
        throw new IllegalArgumentException("unexpected '" + args[i] + "'; usage: " + usage);
      }
      flags.put(name, args[++i]);
    }
    return flags;
  }

  static String required(Map<String, String> flags, String name) {
    String v = flags.get(name);
    if (v == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  static Integer integer(Map<String, String> flags, String name) {
    return flags.containsKey(name) ? Integer.valueOf(flags.get(name)) : null;
  }

  /** {@code --bootstrap}, else {@code $KAFKA_BOOTSTRAP_SERVERS}, else the local broker's address. */
  static String bootstrap(Map<String, String> flags) {
    String env = System.getenv("KAFKA_BOOTSTRAP_SERVERS");
    return flags.getOrDefault("bootstrap", env == null || env.isBlank() ? "127.0.0.1:9092" : env);
  }
}
