package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.examples.news.DigestMain;
import io.aigc.examples.news.Feeder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The news digest example end to end: the feeder publishes the sample articles straight to Kafka as news-summary
 * jobs, the real pipeline (broker, tokenizer, worker, postprocessor; tiny-llama) summarizes them, and the digest
 * application turns the completions into a Markdown and an HTML page per day and source, each article linked.
 */
class NewsDigestEndToEndTest {
  private static final Path ARTICLES = Commands.ROOT.resolve("examples/news-digest/articles.jsonl");

  @Test
  void articlesFedToThePipelineBecomeADigestPerDayAndSource(@TempDir Path out, @TempDir Path state)
      throws Exception {
    // Expected pages: the articles by day (UTC) and source.
    Map<String, List<JsonNode>> pages = new LinkedHashMap<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(ARTICLES)) {
      JsonNode a = json.readTree(line);
      String page = a.get("published").asText().substring(0, 10) + "/"
          + a.get("source").asText().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
      pages.computeIfAbsent(page, p -> new ArrayList<>()).add(a);
    }

    try (TestPipeline pipeline = TestPipeline.start()) {
      KafkaStreams digest = DigestMain.start(pipeline.bootstrapServers(), "generation.completions", out, state,
          "news-digest-test");
      try {
        // The tiny model's context is 256 tokens: short bodies and summaries. A real model takes the defaults.
        String ids = feed("--articles", ARTICLES.toString(), "--bootstrap", pipeline.bootstrapServers(),
            "--max-tokens", "24", "--max-body-chars", "160");
        assertThat(ids.strip().split("\n")).hasSize(pages.values().stream().mapToInt(List::size).sum())
            .allMatch(id -> id.startsWith("news-summary-"));

        await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
          for (Map.Entry<String, List<JsonNode>> page : pages.entrySet()) {
            Path md = out.resolve(page.getKey() + ".md");
            Path html = out.resolve(page.getKey() + ".html");
            assertThat(md).as("page %s", page.getKey()).exists();
            assertThat(html).exists();
            String markdown = Files.readString(md);
            String markup = Files.readString(html);
            for (JsonNode a : page.getValue()) {
              String url = a.get("url").asText();
              assertThat(markdown).contains("](<" + url + ">)");
              assertThat(markup).contains("<a href=\"" + url + "\">");
            }
            assertThat(markdown).contains(page.getValue().size() + (page.getValue().size() == 1 ? " article,"
                : " articles,"));
          }
        });
      } finally {
        digest.close(Duration.ofSeconds(10));
      }
    }

    // Every article was summarized (not an error entry), and the index lists every page.
    for (String page : pages.keySet()) {
      assertThat(Files.readString(out.resolve(page + ".md"))).doesNotContain("No summary", "The summary is empty");
    }
    String index = Files.readString(out.resolve("index.md"));
    for (String page : pages.keySet()) {
      assertThat(index).contains("(<" + page + ".md>)");
    }
  }

  /** Runs the feeder's main as the README does, and returns what it printed. */
  private static String feed(String... args) throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      Feeder.main(args);
    } finally {
      System.setOut(stdout);
    }
    return printed.toString(StandardCharsets.UTF_8);
  }

}
