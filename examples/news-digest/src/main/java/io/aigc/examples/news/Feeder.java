package io.aigc.examples.news;

import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.Tasks;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes a JSONL file of articles as {@code news-summary} jobs on the requests topic, straight to Kafka as any
 * producer may: the article's title, source, publication time and body are the task's fields, and its id, source,
 * URL, title and publication time its metadata, which the pipeline carries unchanged to the completion where the
 * digest reads them. Each job's id is {@code news-summary-<article id>}, so feeding a file twice makes no second
 * summary (the pipeline answers a request id once). Prints each job's id.
 *
 * <pre>java -cp examples/news-digest/target/news-digest-0.1.0-SNAPSHOT.jar io.aigc.examples.news.Feeder \
 *     --articles examples/news-digest/articles.jsonl [--bootstrap HOST:PORT] [--topic generation.requests]
 *     [--max-tokens N] [--max-body-chars N]</pre>
 */
public final class Feeder {
  /** The metadata keys the digest reads. */
  static final String ARTICLE_ID = "article_id";
  static final String SOURCE = "source";
  static final String URL = "url";
  static final String TITLE = "title";
  static final String PUBLISHED = "published";

  private Feeder() {}

  /**
   * What to publish besides the articles.
   *
   * @param maxTokens null leaves the task's default
   * @param maxBodyChars null sends whole bodies; otherwise bodies are cut at a word boundary to about this many
   *     characters, for a model with a small context (the repository's tiny ones take 256 tokens)
   */
  record Options(Integer maxTokens, Integer maxBodyChars) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = Flags.parse(args, List.of("articles", "bootstrap", "topic", "max-tokens",
        "max-body-chars"), "Feeder --articles FILE [--bootstrap HOST:PORT] [--topic generation.requests] "
        + "[--max-tokens N] [--max-body-chars N]");
    Path file = Path.of(Flags.required(flags, "articles"));
    Options options = new Options(Flags.integer(flags, "max-tokens"), Flags.integer(flags, "max-body-chars"));
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Flags.bootstrap(flags));
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (Producer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
        new ByteArraySerializer())) {
      for (String id : publish(producer, flags.getOrDefault("topic", "generation.requests"),
          Article.readJsonl(file), options)) {
        System.out.println(id);
      }
    }
  }

  /** Publishes one job per article and waits until the broker has them all; returns their ids in order. */
  static List<String> publish(Producer<String, byte[]> producer, String topic, List<Article> articles,
      Options options) throws Exception {
    AvroSerde<GenerationRequest> serde = AvroSerde.of(GenerationRequest.class);
    List<String> ids = new ArrayList<>();
    List<Future<?>> sent = new ArrayList<>();
    for (Article a : articles) {
      String id = "news-summary-" + a.id();
      sent.add(producer.send(new ProducerRecord<>(topic, id, serde.encode(request(id, a, options)))));
      ids.add(id);
    }
    for (Future<?> f : sent) {
      f.get();
    }
    return ids;
  }

  static GenerationRequest request(String id, Article a, Options options) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("title", a.title());
    fields.put("source", a.source());
    fields.put("published", a.published());
    fields.put("body", options.maxBodyChars() == null ? a.body() : cut(a.body(), options.maxBodyChars()));
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put(ARTICLE_ID, a.id());
    metadata.put(SOURCE, a.source());
    metadata.put(URL, a.url());
    metadata.put(TITLE, a.title());
    metadata.put(PUBLISHED, a.published());
    RequestSpec.Builder spec = RequestSpec.builder().task(Tasks.NEWS_SUMMARY, fields).metadata(metadata);
    if (options.maxTokens() != null) {
      spec.sampling(s -> s.maxTokens(options.maxTokens()));
    }
    return spec.build().toEvent(id, Instant.now(), null);
  }

  /** At most about {@code max} characters, cut after a whole word. */
  static String cut(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int space = text.lastIndexOf(' ', max);
    return (space > 0 ? text.substring(0, space) : text.substring(0, max)) + " ...";
  }
}
