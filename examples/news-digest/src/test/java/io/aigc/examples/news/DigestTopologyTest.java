package io.aigc.examples.news;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.GenerationError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestTopologyTest {
  private static final AvroSerde<Completion> SERDE = AvroSerde.of(Completion.class);

  @TempDir
  Path out;
  @TempDir
  Path state;
  private TopologyTestDriver driver;
  private TestInputTopic<String, byte[]> completions;
  private final List<String> written = new ArrayList<>();

  @BeforeEach
  void start() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "digest-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
    driver = new TopologyTestDriver(DigestTopology.build("generation.completions", out, written::add), props);
    completions = driver.createInputTopic("generation.completions", new StringSerializer(),
        new ByteArraySerializer());
  }

  @AfterEach
  void close() {
    driver.close();
  }

  private static Completion summary(String article, String source, String published, String text, String task) {
    Map<String, String> metadata = new HashMap<>(Map.of("article_id", article, "source", source,
        "url", "https://news.example.org/" + article, "title", "Title of " + article, "published", published));
    return Completion.newBuilder().setRequestId("news-summary-" + article).setStatus(CompletionStatus.OK)
        .setModel("tiny-llama").setCreatedAt(0).setCompletedAt(1)
        .setChoices(List.of(new CompletionChoice(0, text, "stop", null))).setMetadata(metadata).setTask(task)
        .build();
  }

  private void send(Completion c) {
    completions.pipeInput(c.getRequestId(), SERDE.encode(c));
  }

  private String read(String relative) throws IOException {
    return Files.readString(out.resolve(relative));
  }

  @Test
  void summariesAreGroupedByDayAndSourceEachEntryLinkingItsArticle() throws IOException {
    send(summary("b", "Sample Wire", "2008-09-10T15:30:00Z", " The second beam went round.", "news-summary"));
    send(summary("a", "Sample Wire", "2008-09-10T09:00:00Z", " The first beam went round.", "news-summary"));
    send(summary("c", "Other Desk", "2008-09-10T23:30:00-02:00", " A late story.", "news-summary"));
    send(summary("x", "Sample Wire", "2008-09-10T10:00:00Z", " Not a summary.", "ad-copy"));
    send(summary("y", "Sample Wire", "2008-09-10T10:00:00Z", " Nor this.", null));

    String md = read("2008-09-10/sample-wire.md");
    assertThat(md).startsWith("# Sample Wire, 2008-09-10\n\n2 articles");
    // In publication order, each linked to its article.
    assertThat(md.indexOf("## [Title of a](<https://news.example.org/a>)"))
        .isPositive().isLessThan(md.indexOf("## [Title of b](<https://news.example.org/b>)"));
    assertThat(md).contains("*09:00 UTC*\n\nThe first beam went round.\n").doesNotContain("Not a summary", "Nor this");
    String html = read("2008-09-10/sample-wire.html");
    assertThat(html).contains("<h2><a href=\"https://news.example.org/a\">Title of a</a></h2>",
        "<p>The first beam went round.</p>");
    // 23:30 at UTC-2 is the next day in UTC.
    assertThat(read("2008-09-11/other-desk.md")).contains("[Title of c]");
    assertThat(read("index.md")).isEqualTo("# News digest\n\n- 2008-09-11: [Other Desk](<2008-09-11/other-desk.md>) (1)\n"
        + "- 2008-09-10: [Sample Wire](<2008-09-10/sample-wire.md>) (2)\n");
    assertThat(read("index.html")).contains("<a href=\"2008-09-10/sample-wire.html\">Sample Wire</a> (2)");
    assertThat(written).containsExactly("2008-09-10/sample-wire", "2008-09-10/sample-wire", "2008-09-11/other-desk");
  }

  @Test
  void aFailedSummaryIsListedUntilASummaryOfTheArticleReplacesIt() throws IOException {
    Completion failed = summary("a", "Wire", "2008-09-10T09:00:00Z", "", "news-summary");
    failed.setStatus(CompletionStatus.ERROR);
    failed.setChoices(List.of());
    failed.setError(new GenerationError("context_length_exceeded", "too long"));
    send(failed);
    assertThat(read("2008-09-10/wire.md")).contains("*No summary: context\\_length\\_exceeded: too long*");

    Completion retried = summary("a", "Wire", "2008-09-10T09:00:00Z", " Now summarized.", "news-summary");
    retried.setRequestId("news-summary-a-retry");
    send(retried);
    send(failed);

    String md = read("2008-09-10/wire.md");
    assertThat(md).contains("Now summarized.").doesNotContain("No summary").startsWith("# Wire, 2008-09-10\n\n1 article,");
  }

  @Test
  void textFromFeedsAndModelsIsEscapedAndOnlyWebUrlsBecomeLinks() throws IOException {
    Completion hostile = summary("h", "<b>Wire</b>", "2008-09-10T09:00:00Z",
        "<script>alert(1)</script> *bold* [x](javascript:alert(1))", "news-summary");
    hostile.getMetadata().put("title", "\"Quotes\" & <tags>");
    hostile.getMetadata().put("url", "javascript:alert(1)");
    send(hostile);

    String html = read("2008-09-10/b-wire-b.html");
    assertThat(html).doesNotContain("<script>", "<b>", "href=\"javascript")
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;", "<h2>&quot;Quotes&quot; &amp; &lt;tags&gt;</h2>");
    String md = read("2008-09-10/b-wire-b.md");
    assertThat(md).contains("## &quot;Quotes&quot; &amp; &lt;tags&gt;".replace("&quot;", "\""))
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\* \\[x\\](javascript:alert(1))")
        .doesNotContain("<script>");
  }

  @Test
  void anUnreadableRecordIsSkippedAndTheStreamGoesOn() throws IOException {
    completions.pipeInput("junk", "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    send(summary("a", "Wire", "2008-09-10", " Fine.", "news-summary"));

    assertThat(read("2008-09-10/wire.md")).contains("Fine.");
  }

  @Test
  void theFeederDescribesEachArticleAsTheDigestReadsIt() throws IOException {
    List<Article> articles = Article.readJsonl(Path.of("articles.jsonl"));
    assertThat(articles).hasSizeBetween(5, 10);

    var request = Feeder.request("news-summary-x", articles.get(0), new Feeder.Options(24, 40));
    assertThat(request.getTask()).isEqualTo("news-summary");
    assertThat(request.getTaskFields()).containsKeys("title", "source", "published", "body");
    assertThat(request.getTaskFields().get("body")).hasSizeLessThanOrEqualTo(44).endsWith(" ...");
    assertThat(request.getMetadata()).containsOnlyKeys("article_id", "source", "url", "title", "published")
        .containsEntry("article_id", articles.get(0).id()).containsEntry("url", articles.get(0).url());
    assertThat(request.getParams().getMaxTokens()).isEqualTo(24);
    assertThat(request.getPrompt()).isEmpty();
  }
}
