package io.aigc.examples.news;

import com.google.common.html.HtmlEscapers;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One digest page: the summaries of one source's articles published on one day (UTC), and how a page is written
 * as Markdown and as HTML. Every text that came from an article or a model is escaped, and only http(s) URLs
 * become links.
 */
final class Digest {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm 'UTC'", Locale.ROOT);

  private Digest() {}

  /**
   * An article's entry.
   *
   * @param summary the summary, or null when summarizing failed
   * @param error why there is no summary ("context_length_exceeded: ..."), or null
   */
  record Entry(String articleId, String title, String url, String published, String summary, String error,
      long completedAt) {}

  /** A page: its day, its source, and its entries in publication order. */
  record Page(String day, String source, List<Entry> entries) {
    Page {
      entries = List.copyOf(entries);
    }

    /** This page with {@code entry}: a summary replaces the article's earlier entry; an error never replaces one. */
    Page with(Entry entry) {
      List<Entry> out = new ArrayList<>();
      boolean kept = false;
      for (Entry e : entries) {
        if (e.articleId().equals(entry.articleId())) {
          boolean replace = entry.summary() != null || e.summary() == null;
          out.add(replace ? entry : e);
          kept = true;
        } else {
          out.add(e);
        }
      }
      if (!kept) {
        out.add(entry);
      }
      out.sort(Comparator.comparing(Entry::published).thenComparing(Entry::title).thenComparing(Entry::articleId));
      return new Page(day, source, out);
    }

    /** Where the page lives under the output folder, without its extension: {@code 2008-09-10/sample-science}. */
    String path() {
      return day + "/" + slug(source);
    }
  }

  /** The day (UTC) an article was published: from an instant, a date-time with an offset, or a date. */
  static String day(String published, Instant fallback) {
    try {
      return OffsetDateTime.parse(published).withOffsetSameInstant(ZoneOffset.UTC).toLocalDate().toString();
    } catch (DateTimeParseException | NullPointerException e) {
      try {
        return LocalDate.parse(published).toString();
      } catch (DateTimeParseException | NullPointerException e2) {
        return LocalDate.ofInstant(fallback, ZoneOffset.UTC).toString();
      }
    }
  }

  /** A source's name as a file name: lower case letters, digits and hyphens. */
  static String slug(String source) {
    String slug = source.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    return slug.isEmpty() ? "unknown" : slug;
  }

  static String markdown(Page page) {
    StringBuilder md = new StringBuilder();
    md.append("# ").append(mdText(page.source())).append(", ").append(page.day()).append("\n\n");
    md.append(page.entries().size()).append(page.entries().size() == 1 ? " article" : " articles")
        .append(", summarized by the aigc pipeline's news-summary task.\n");
    for (Entry e : page.entries()) {
      md.append("\n## ");
      String url = safeUrl(e.url());
      if (url != null) {
        md.append('[').append(mdText(e.title())).append("](<").append(url).append(">)");
      } else {
        md.append(mdText(e.title()));
      }
      md.append("\n\n*").append(time(e.published())).append("*\n\n");
      md.append(e.summary() == null ? "*No summary: " + mdText(e.error()) + "*"
          : e.summary().isBlank() ? "*The summary is empty.*" : mdText(e.summary().strip()))
          .append('\n');
    }
    return md.toString();
  }

  static String html(Page page) {
    StringBuilder html = new StringBuilder();
    String title = html(page.source()) + ", " + page.day();
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").append(title)
        .append("</title>\n</head>\n<body>\n<h1>").append(title).append("</h1>\n<p>").append(page.entries().size())
        .append(page.entries().size() == 1 ? " article" : " articles")
        .append(", summarized by the aigc pipeline's news-summary task.</p>\n");
    for (Entry e : page.entries()) {
      html.append("<article>\n<h2>");
      String url = safeUrl(e.url());
      if (url != null) {
        html.append("<a href=\"").append(html(url)).append("\">").append(html(e.title())).append("</a>");
      } else {
        html.append(html(e.title()));
      }
      html.append("</h2>\n<p><time datetime=\"").append(html(e.published())).append("\">")
          .append(html(time(e.published()))).append("</time></p>\n");
      html.append(e.summary() == null ? "<p><em>No summary: " + html(e.error()) + "</em></p>"
          : e.summary().isBlank() ? "<p><em>The summary is empty.</em></p>" : "<p>" + html(e.summary().strip())
          + "</p>").append("\n</article>\n");
    }
    return html.append("</body>\n</html>\n").toString();
  }

  /** The index: every page, latest day first. */
  static String indexMarkdown(List<Page> pages) {
    StringBuilder md = new StringBuilder("# News digest\n\n");
    for (Page p : sorted(pages)) {
      md.append("- ").append(p.day()).append(": [").append(mdText(p.source())).append("](<").append(p.path())
          .append(".md>) (").append(p.entries().size()).append(")\n");
    }
    return md.toString();
  }

  static String indexHtml(List<Page> pages) {
    StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        + "<title>News digest</title>\n</head>\n<body>\n<h1>News digest</h1>\n<ul>\n");
    for (Page p : sorted(pages)) {
      html.append("<li>").append(p.day()).append(": <a href=\"").append(html(p.path())).append(".html\">")
          .append(html(p.source())).append("</a> (").append(p.entries().size()).append(")</li>\n");
    }
    return html.append("</ul>\n</body>\n</html>\n").toString();
  }

  private static List<Page> sorted(List<Page> pages) {
    List<Page> out = new ArrayList<>(pages);
    out.sort(Comparator.comparing(Page::day).reversed().thenComparing(Page::source));
    return out;
  }

  private static String time(String published) {
    try {
      return OffsetDateTime.parse(published).withOffsetSameInstant(ZoneOffset.UTC).format(TIME);
    } catch (DateTimeParseException e) {
      return published;
    }
  }

  /** The URL when it is an absolute http(s) one (a {@code javascript:} link in a feed must not become a link). */
  static String safeUrl(String url) {
    if (url == null) {
      return null;
    }
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      return (scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null ? uri.toASCIIString() : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  static String html(String s) {
    return HtmlEscapers.htmlEscaper().escape(s);
  }

  /**
   * Text that Markdown shows as written, on one line: the characters that could start emphasis, a link, code, a
   * heading or a table escaped, HTML's brackets as entities, and a start that would begin a list escaped.
   */
  static String mdText(String s) {
    StringBuilder out = new StringBuilder(s.length() + 8);
    // "- x", "+ x" and "1. x" at the start of a line would begin a list.
    Matcher number = Pattern.compile("^\\d+(?=[.)])").matcher(s);
    if (s.startsWith("-") || s.startsWith("+")) {
      out.append('\\');
    } else if (number.find()) {
      out.append(number.group()).append('\\');
      s = s.substring(number.end());
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '<') {
        out.append("&lt;");
      } else if (c == '>') {
        out.append("&gt;");
      } else if (c == '&') {
        out.append("&amp;");
      } else if (c == '\n' || c == '\r') {
        out.append(' ');
      } else {
        if ("\\`*_[]#|~".indexOf(c) >= 0) {
          out.append('\\');
        }
        out.append(c);
      }
    }
    return out.toString();
  }
}
