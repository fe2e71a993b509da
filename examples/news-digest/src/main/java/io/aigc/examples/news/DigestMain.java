package io.aigc.examples.news;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The news digest: a Kafka Streams application that reads the pipeline's completions and keeps Markdown and HTML
 * digests of the news summaries in a folder, one page per day and source, until Ctrl-C.
 *
 * <pre>java -jar examples/news-digest/target/news-digest-0.1.0-SNAPSHOT.jar --output digest/
 *     [--bootstrap HOST:PORT] [--topic generation.completions] [--state-dir DIR] [--application-id ID]</pre>
 */
public final class DigestMain {
  static final String USAGE = "DigestMain --output DIR [--bootstrap HOST:PORT] [--topic generation.completions] "
      + "[--state-dir DIR] [--application-id aigc-news-digest]";

  private DigestMain() {}

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> flags = Flags.parse(args, List.of("output", "bootstrap", "topic", "state-dir",
        "application-id"), USAGE);
    Path output = Path.of(Flags.required(flags, "output"));
    KafkaStreams streams = start(Flags.bootstrap(flags), flags.getOrDefault("topic", "generation.completions"),
        output, Path.of(flags.getOrDefault("state-dir", System.getProperty("java.io.tmpdir") + "/aigc-news-digest")),
        flags.getOrDefault("application-id", "aigc-news-digest"));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }, "digest-shutdown"));
    System.out.println("writing the digest of " + flags.getOrDefault("topic", "generation.completions") + " into "
        + output.toAbsolutePath() + " (Ctrl-C stops)");
    stopped.await();
  }

  /** The digest, started: {@link KafkaStreams#close()} stops it. */
  public static KafkaStreams start(String bootstrap, String topic, Path output, Path stateDir, String applicationId) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    // The postprocessor writes completions in transactions: read only committed ones. At-least-once is enough
    // here, since a page written twice is the same page.
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "read_committed");
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    KafkaStreams streams = new KafkaStreams(DigestTopology.build(topic, output,
        page -> System.out.println("updated " + page)), props);
    streams.start();
    return streams;
  }
}
