package io.aigc.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A point in time as the command line takes it: {@code now}; relative to now, {@code -1h}, {@code -30m},
 * {@code -2d}, {@code -1h30m}, {@code -90s}; or ISO-8601: {@code 2026-12-01T02:00:00Z}, with an offset
 * ({@code +01:00}), or without one (UTC), or a date alone (its midnight, UTC).
 */
final class Times {
  private static final Pattern RELATIVE = Pattern.compile("-((?:\\d+[dhms])+)");
  private static final Pattern PART = Pattern.compile("(\\d+)([dhms])");

  private Times() {}

  static Instant parse(String text, Instant now) {
    String t = text.strip();
    if (t.equalsIgnoreCase("now")) {
      return now;
    }
    Matcher relative = RELATIVE.matcher(t);
    if (relative.matches()) {
      Duration ago = Duration.ZERO;
      Matcher part = PART.matcher(relative.group(1));
      while (part.find()) {
        long n = Long.parseLong(part.group(1));
        ago = ago.plus(switch (part.group(2)) {
          case "d" -> Duration.ofDays(n);
          case "h" -> Duration.ofHours(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofSeconds(n);
        });
      }
      return now.minus(ago);
    }
    try {
      return OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException e) {
      // not with an offset: try the other forms
    }
    try {
      return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      // nor a local date-time
    }
    try {
      return LocalDate.parse(t).atStartOfDay().toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("'" + text + "' is not a time: use now, -1h (or -30m, -2d, -1h30m), or "
          + "ISO-8601 such as 2026-12-01T02:00:00Z or 2026-12-01");
    }
  }
}
