package io.aigc.text;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.beans.FeatureDescriptor;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * What chat templates take from Python and Jinjava does the Java way: {@code str.strip()} and its kin, the
 * {@code trim} and {@code tojson} filters, and the {@code raise_exception} and {@code strftime_now} globals of
 * transformers' template environment. Each answers byte for byte as Python would.
 */
final class PythonSemantics {
  private PythonSemantics() {}

  /** Thrown by the template's {@code raise_exception(message)}; Jinjava records it, ChatTemplate reports it. */
  static final class Raised extends RuntimeException {
    Raised(String message) {
      super(message, null, false, false);
    }
  }

  /** {@code raise_exception(message)}: the template refuses the conversation. */
  public static Object raiseException(Object message) {
    throw new Raised(message == null ? "None" : message.toString());
  }

  /** {@code strftime_now(format)}: the time now, as Python's {@code datetime.now().strftime(format)}. */
  public static String strftimeNow(String format) {
    JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
    ZonedDateTime now = Instant.ofEpochMilli(interpreter.getConfig().getDateTimeProvider().getCurrentTimeMillis())
        .atZone(interpreter.getConfig().getTimeZone());
    // Python formats %a, %b and the like in the C locale: English.
    return StrftimeFormatter.format(now, format, Locale.ENGLISH);
  }

  /**
   * Python's truth: empty strings, collections and maps, zero and None are false, everything else true. Jinjava
   * also takes the string "false" for false, which would drop a message whose whole text is "False".
   */
  static boolean truthy(Object o) {
    if (o == null) {
      return false;
    }
    if (o instanceof Boolean b) {
      return b;
    }
    if (o instanceof Number n) {
      return n instanceof BigDecimal d ? d.signum() != 0 : n.doubleValue() != 0;
    }
    if (o instanceof CharSequence s) {
      return s.length() > 0;
    }
    if (o instanceof Collection<?> c) {
      return !c.isEmpty();
    }
    if (o instanceof Map<?, ?> m) {
      return !m.isEmpty();
    }
    if (o.getClass().isArray()) {
      return Array.getLength(o) != 0;
    }
    return true;
  }

  /**
   * Python's {@code ==}: values of different types differ ({@code "" != False}), but numbers compare by value and
   * a bool is the number 0 or 1. Jinjava's (JUEL's) {@code ==} coerces one side to the other's type, so that
   * {@code "" == false} holds and Llama 2's template drops an empty system prompt that Python keeps.
   */
  static boolean pyEquals(Object a, Object b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    if ((a instanceof Number || a instanceof Boolean) && (b instanceof Number || b instanceof Boolean)) {
      if (a instanceof Double || a instanceof Float || b instanceof Double || b instanceof Float) {
        double x = a instanceof Boolean t ? (t ? 1 : 0) : ((Number) a).doubleValue();
        double y = b instanceof Boolean t ? (t ? 1 : 0) : ((Number) b).doubleValue();
        if (!Double.isFinite(x) || !Double.isFinite(y)) {
          return x == y;
        }
      }
      return number(a).compareTo(number(b)) == 0;
    }
    if (a instanceof CharSequence || b instanceof CharSequence) {
      return a instanceof CharSequence && b instanceof CharSequence && a.toString().equals(b.toString());
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : x.entrySet()) {
        if (!y.containsKey(e.getKey()) || !pyEquals(e.getValue(), y.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (sequence(a) && sequence(b)) {
      List<?> x = asList(a);
      List<?> y = asList(b);
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!pyEquals(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  private static boolean sequence(Object o) {
    return o instanceof Collection<?> || o.getClass().isArray();
  }

  private static BigDecimal number(Object o) {
    if (o instanceof Boolean b) {
      return b ? BigDecimal.ONE : BigDecimal.ZERO;
    }
    if (o instanceof BigDecimal d) {
      return d;
    }
    if (o instanceof Double || o instanceof Float) {
      return new BigDecimal(((Number) o).doubleValue());
    }
    return new BigDecimal(o.toString());
  }

  /** Python's {@code str.isspace()} for one code point: what {@code str.strip()} removes when given no characters. */
  static boolean isSpace(int cp) {
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f
        || cp == 0x3000;
  }

  /** Python's {@code str.strip(chars)}; {@code lstrip} strips only the left, {@code rstrip} only the right. */
  static String strip(String s, String chars, boolean left, boolean right) {
    int start = 0;
    int end = s.length();
    if (left) {
      while (start < end && strippable(s.codePointAt(start), chars)) {
        start += Character.charCount(s.codePointAt(start));
      }
    }
    if (right) {
      while (end > start && strippable(s.codePointBefore(end), chars)) {
        end -= Character.charCount(s.codePointBefore(end));
      }
    }
    return s.substring(start, end);
  }

  private static boolean strippable(int cp, String chars) {
    return chars == null ? isSpace(cp) : chars.codePoints().anyMatch(c -> c == cp);
  }

  /** A filter under the name templates call it by. */
  private abstract static class NamedFilter implements Filter {
    private final String name;

    NamedFilter(String name) {
      this.name = name;
    }

    @Override
    public final String getName() {
      return name;
    }
  }

  /** jinja2's {@code trim} filter is {@code str(value).strip(chars)}; Jinjava's trims only ASCII space and controls. */
  static final class TrimFilter extends NamedFilter {
    TrimFilter() {
      super("trim");
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      String chars = args.length > 0 ? args[0] : null;
      return var == null ? "" : strip(var.toString(), chars, true, true);
    }
  }

  /**
   * transformers' {@code tojson}: {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None,
   * sort_keys=False)}. Jinjava's writes Jackson's compact form ({@code {"a":1}}); Python's default has spaces.
   */
  static final class ToJsonFilter extends NamedFilter {
    ToJsonFilter() {
      super("tojson");
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      return filter(var, interpreter, args, Map.of());
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
      Object indent = kwargs.getOrDefault("indent", args.length > 1 ? args[1] : null);
      Object separators = kwargs.getOrDefault("separators", args.length > 2 ? args[2] : null);
      Object sortKeys = kwargs.getOrDefault("sort_keys", args.length > 3 ? args[3] : null);
      Object ensureAscii = kwargs.getOrDefault("ensure_ascii", args.length > 0 ? args[0] : null);
      return PythonJson.dumps(var, indent == null ? null : ((Number) indent).intValue(),
          separators == null ? null : asList(separators), Boolean.TRUE.equals(sortKeys),
          Boolean.TRUE.equals(ensureAscii));
    }
  }

  /**
   * Python's string methods, called as templates call them ({@code content.strip()}, {@code role.title()}). Without
   * this resolver Jinjava calls Java's methods of the same name where there are some: {@code String.strip()} keeps
   * the no-break space that Python's removes, and {@code lstrip}, {@code startswith} and the rest do not exist.
   */
  static final class StringMethods extends ELResolver {
    private static final Set<String> METHODS = Set.of("strip", "lstrip", "rstrip", "startswith", "endswith", "split",
        "upper", "lower", "title", "capitalize", "replace");

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
      if (!(base instanceof String s) || method == null || !METHODS.contains(method.toString())) {
        return null;
      }
      Object[] p = params == null ? new Object[0] : params;
      Object result = switch (method.toString()) {
        case "strip" -> strip(s, arg(p, 0), true, true);
        case "lstrip" -> strip(s, arg(p, 0), true, false);
        case "rstrip" -> strip(s, arg(p, 0), false, true);
        case "startswith" -> affixes(p).stream().anyMatch(s::startsWith);
        case "endswith" -> affixes(p).stream().anyMatch(s::endsWith);
        case "split" -> split(s, arg(p, 0), p.length > 1 ? ((Number) p[1]).intValue() : -1);
        case "upper" -> s.toUpperCase(Locale.ROOT);
        case "lower" -> s.toLowerCase(Locale.ROOT);
        case "title" -> title(s);
        case "capitalize" -> s.isEmpty() ? s : title(s.substring(0, s.offsetByCodePoints(0, 1)))
            + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT);
        case "replace" -> replace(s, String.valueOf(p[0]), String.valueOf(p[1]),
            p.length > 2 ? ((Number) p[2]).intValue() : -1);
        default -> throw new IllegalStateException(method.toString());
      };
      context.setPropertyResolved(true);
      return result;
    }

    private static String arg(Object[] p, int i) {
      return p.length > i && p[i] != null ? p[i].toString() : null;
    }

    private static List<String> affixes(Object[] p) {
      return p[0] instanceof String one ? List.of(one) : asList(p[0]).stream().map(String::valueOf).toList();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
      return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
      return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
      return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
      return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
      return null;
    }
  }

  /** Python's {@code str.split(sep, maxsplit)}: no separator splits on runs of whitespace and drops empty ends. */
  static List<String> split(String s, String sep, int maxsplit) {
    List<String> parts = new ArrayList<>();
    if (sep == null) {
      int i = 0;
      int n = s.length();
      while (true) {
        while (i < n && isSpace(s.codePointAt(i))) {
          i += Character.charCount(s.codePointAt(i));
        }
        if (i >= n) {
          return parts;
        }
        if (maxsplit >= 0 && parts.size() == maxsplit) {
          parts.add(strip(s.substring(i), null, false, true));
          return parts;
        }
        int j = i;
        while (j < n && !isSpace(s.codePointAt(j))) {
          j += Character.charCount(s.codePointAt(j));
        }
        parts.add(s.substring(i, j));
        i = j;
      }
    }
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    int from = 0;
    int at;
    while ((maxsplit < 0 || parts.size() < maxsplit) && (at = s.indexOf(sep, from)) >= 0) {
      parts.add(s.substring(from, at));
      from = at + sep.length();
    }
    parts.add(s.substring(from));
    return parts;
  }

  /** Python's {@code str.title()}: a cased letter after an uncased character starts a word. */
  static String title(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean previousCased = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      String c = new String(Character.toChars(cp));
      out.append(previousCased ? c.toLowerCase(Locale.ROOT) : titleCase(cp));
      previousCased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
      i += Character.charCount(cp);
    }
    return out.toString();
  }

  private static String titleCase(int cp) {
    int t = Character.toTitleCase(cp);
    // Java maps one code point to one; full mappings (ß -> Ss) come from toUpperCase of the rest, as Python's do.
    if (t == Character.toUpperCase(cp)) {
      String upper = new String(Character.toChars(cp)).toUpperCase(Locale.ROOT);
      return upper.length() > Character.charCount(cp)
          ? upper.substring(0, upper.offsetByCodePoints(0, 1)) + upper.substring(upper.offsetByCodePoints(0, 1))
              .toLowerCase(Locale.ROOT)
          : upper;
    }
    return new String(Character.toChars(t));
  }

  private static String replace(String s, String old, String replacement, int count) {
    if (count < 0) {
      return s.replace(old, replacement);
    }
    StringBuilder out = new StringBuilder();
    int from = 0;
    for (int n = 0; n < count; n++) {
      int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
      if (at < 0) {
        break;
      }
      out.append(s, from, at).append(replacement);
      if (old.isEmpty()) {
        if (at < s.length()) {
          out.append(s.charAt(at));
        }
        from = at + 1;
      } else {
        from = at + old.length();
      }
    }
    return from <= s.length() ? out.append(s.substring(from)).toString() : out.toString();
  }

  static List<?> asList(Object o) {
    if (o instanceof List<?> list) {
      return list;
    }
    if (o instanceof Collection<?> c) {
      return new ArrayList<>(c);
    }
    if (o != null && o.getClass().isArray()) {
      List<Object> list = new ArrayList<>();
      for (int i = 0; i < Array.getLength(o); i++) {
        list.add(Array.get(o, i));
      }
      return list;
    }
    throw new IllegalArgumentException("not a sequence: " + o);
  }

  /** Python's {@code json.dumps}, for the values a template holds: maps, sequences, strings, numbers, booleans. */
  static final class PythonJson {
    private PythonJson() {}

    static String dumps(Object value, Integer indent, List<?> separators, boolean sortKeys, boolean ensureAscii) {
      String itemSeparator = separators != null ? String.valueOf(separators.get(0)) : indent != null ? "," : ", ";
      String keySeparator = separators != null ? String.valueOf(separators.get(1)) : ": ";
      StringBuilder out = new StringBuilder();
      new PythonJson.Writer(out, indent, itemSeparator, keySeparator, sortKeys, ensureAscii).write(value, 0);
      return out.toString();
    }

    private record Writer(StringBuilder out, Integer indent, String itemSeparator, String keySeparator,
        boolean sortKeys, boolean ensureAscii) {
      void write(Object v, int depth) {
        if (v == null) {
          out.append("null");
        } else if (v instanceof Boolean b) {
          out.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
          out.append(floatRepr(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
          out.append(n instanceof BigDecimal d ? floatRepr(d.doubleValue()) : n.toString());
        } else if (v instanceof CharSequence || v instanceof Character) {
          string(v.toString());
        } else if (v instanceof Map<?, ?> map) {
          object(map, depth);
        } else if (v instanceof Collection<?> || v.getClass().isArray()) {
          array(asList(v), depth);
        } else {
          string(v.toString());
        }
      }

      private void object(Map<?, ?> map, int depth) {
        if (map.isEmpty()) {
          out.append("{}");
          return;
        }
        Map<?, ?> entries = map;
        if (sortKeys) {
          TreeMap<String, Object> sorted = new TreeMap<>();
          map.forEach((k, val) -> sorted.put(key(k), val));
          entries = sorted;
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : entries.entrySet()) {
          separator(first, depth + 1);
          first = false;
          string(key(e.getKey()));
          out.append(keySeparator);
          write(e.getValue(), depth + 1);
        }
        newline(depth);
        out.append('}');
      }

      private void array(List<?> list, int depth) {
        if (list.isEmpty()) {
          out.append("[]");
          return;
        }
        out.append('[');
        boolean first = true;
        for (Object item : list) {
          separator(first, depth + 1);
          first = false;
          write(item, depth + 1);
        }
        newline(depth);
        out.append(']');
      }

      private void separator(boolean first, int depth) {
        if (!first) {
          out.append(itemSeparator);
        }
        newline(depth);
      }

      private void newline(int depth) {
        if (indent != null) {
          out.append('\n').append(" ".repeat(indent * depth));
        }
      }

      private static String key(Object k) {
        return k instanceof Boolean b ? (b ? "true" : "false") : k == null ? "null" : k.toString();
      }

      private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
          char c = s.charAt(i);
          switch (c) {
            case '"' -> out.append("\\\"");
            case '\\' -> out.append("\\\\");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            case '\b' -> out.append("\\b");
            case '\f' -> out.append("\\f");
            default -> {
              if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                out.append(String.format("\\u%04x", (int) c));
              } else {
                out.append(c);
              }
            }
          }
        }
        out.append('"');
      }
    }

    /** Python's {@code repr(float)}: shortest digits, exponent form below 1e-4 and from 1e16 on. */
    static String floatRepr(double d) {
      if (Double.isNaN(d)) {
        return "NaN";
      }
      if (Double.isInfinite(d)) {
        return d > 0 ? "Infinity" : "-Infinity";
      }
      if (d == 0) {
        return (1 / d < 0) ? "-0.0" : "0.0";
      }
      BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
      String digits = b.unscaledValue().abs().toString();
      int exponent = digits.length() - b.scale() - 1;
      String sign = d < 0 ? "-" : "";
      if (exponent < -4 || exponent >= 16) {
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
      }
      String plain = b.abs().toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
  }
}
