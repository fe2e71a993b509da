package io.aigc.examples.news;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.Tasks;
import io.aigc.schemas.UnreadableRecordException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * completions → digest files: the news-summary completions, grouped by the day (UTC) their article was published
 * and its source, each group a page kept in a state store and written out as Markdown and HTML whenever a summary
 * arrives, with an index of the pages. The pages live in the store (changelogged), so the files can always be
 * written again from it: a restarted digest, or one on another machine, rebuilds them as summaries arrive.
 */
public final class DigestTopology {
  static final String STORE = "digest-pages";
  private static final ObjectMapper JSON = new ObjectMapper();

  private DigestTopology() {}

  /**
   * @param written told the path of each page written (without extension), for a command line to print
   */
  public static Topology build(String completionsTopic, Path outputDir, Consumer<String> written) {
    AvroSerde<Completion> serde = AvroSerde.of(Completion.class);
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
        Serdes.String()));
    builder
        // Bytes: a record this application cannot read is skipped with a line on stderr, not a stopped stream.
        .stream(completionsTopic, Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("completions"))
        // 1. Only the news summaries (the topic carries every completion of the pipeline), each as its page's
        //    entry, keyed by its page: day and source.
        .flatMap((requestId, bytes) -> entry(serde, requestId, bytes), Named.as("summaries"))
        // 2. Completions are keyed by request id, so two summaries of one page may sit in two partitions: bring them
        //    to one. A digest is small, so one partition for all of them: one store holds every page, and the index
        //    written from it lists them all.
        .repartition(Repartitioned.with(Serdes.String(), Serdes.String()).withName("by-page").withNumberOfPartitions(1))
        // 3. The page updated, and its files and the index written.
        .process(() -> new Pages(outputDir, written), Named.as("pages"), STORE);
    return builder.build();
  }

  /** A completion as its page's entry (a page of one entry, keyed by the page), or nothing. */
  private static List<KeyValue<String, String>> entry(AvroSerde<Completion> serde, String requestId, byte[] bytes) {
    Completion c;
    try {
      c = serde.decode(bytes);
    } catch (UnreadableRecordException e) {
      System.err.println("skipping an unreadable completion " + requestId + ": " + e.getMessage());
      return List.of();
    }
    if (!Tasks.NEWS_SUMMARY.equals(c.getTask())) {
      return List.of();
    }
    // The article, as the feeder described it in the request's metadata, which travels unchanged.
    Map<String, String> m = c.getMetadata();
    String articleId = m.getOrDefault(Feeder.ARTICLE_ID, c.getRequestId());
    String source = m.getOrDefault(Feeder.SOURCE, "unknown");
    String published = m.getOrDefault(Feeder.PUBLISHED, Instant.ofEpochMilli(c.getCreatedAt()).toString());
    boolean ok = c.getStatus() == CompletionStatus.OK && !c.getChoices().isEmpty();
    Digest.Entry entry = new Digest.Entry(articleId, m.getOrDefault(Feeder.TITLE, articleId), m.get(Feeder.URL),
        published, ok ? c.getChoices().get(0).getText() : null,
        ok ? null : c.getError() == null ? "no text" : c.getError().getCode() + ": " + c.getError().getMessage(),
        c.getCompletedAt());
    String day = Digest.day(published, Instant.ofEpochMilli(c.getCreatedAt()));
    return List.of(KeyValue.pair(day + "/" + source, write(new Digest.Page(day, source, List.of(entry)))));
  }

  /** Each page's entries into its page, kept in the store; the page's files and the index written. */
  static final class Pages implements Processor<String, String, Void, Void> {
    private final Path outputDir;
    private final Consumer<String> written;
    private KeyValueStore<String, String> pages;

    Pages(Path outputDir, Consumer<String> written) {
      this.outputDir = outputDir;
      this.written = written;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      pages = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, String> record) {
      Digest.Page update = read(record.value());
      String stored = pages.get(record.key());
      Digest.Page page = stored == null ? update : read(stored).with(update.entries().get(0));
      pages.put(record.key(), write(page));

      // Files replaced whole: a reader never sees half a file.
      writeFile(page.path() + ".md", Digest.markdown(page));
      writeFile(page.path() + ".html", Digest.html(page));
      List<Digest.Page> all = new ArrayList<>();
      try (KeyValueIterator<String, String> it = pages.all()) {
        while (it.hasNext()) {
          all.add(read(it.next().value));
        }
      }
      writeFile("index.md", Digest.indexMarkdown(all));
      writeFile("index.html", Digest.indexHtml(all));
      written.accept(page.path());
    }

    private void writeFile(String relative, String content) {
      Path file = outputDir.resolve(relative);
      try {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + file, e);
      }
    }
  }

  private static Digest.Page read(String json) {
    try {
      return JSON.readValue(json, Digest.Page.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a page in the store cannot be read: " + e.getOriginalMessage(), e);
    }
  }

  private static String write(Digest.Page page) {
    try {
      return JSON.writeValueAsString(page);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
