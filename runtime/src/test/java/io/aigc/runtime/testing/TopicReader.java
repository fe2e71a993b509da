package io.aigc.runtime.testing;

import static org.awaitility.Awaitility.await;

import io.aigc.runtime.KafkaSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** What the Kafka tests do to a real broker from outside a service: send raw records, read what was committed. */
public final class TopicReader {
  private TopicReader() {}

  /** Sends the records with an idempotent producer and waits until the broker has them all. */
  public static void send(KafkaSettings kafka, List<ProducerRecord<String, byte[]>> records) {
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.producer("test-producer"),
        new StringSerializer(), new ByteArraySerializer())) {
      records.forEach(producer::send);
      producer.flush();
    }
  }

  /**
   * Reads {@code topics} from the start as a read_committed consumer (what any downstream reader sees) until
   * {@code done} holds for every record seen so far, within a minute; returns them in the order read.
   */
  public static List<ConsumerRecord<String, byte[]>> readCommittedUntil(KafkaSettings kafka, List<String> topics,
      Predicate<List<ConsumerRecord<String, byte[]>>> done) {
    List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(kafka.consumer(null, "test-reader"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      await().atMost(Duration.ofSeconds(60)).until(() -> consumer.listTopics().keySet().containsAll(topics));
      List<TopicPartition> partitions = new ArrayList<>();
      topics.forEach(t -> consumer.partitionsFor(t).forEach(p -> partitions.add(new TopicPartition(t, p.partition()))));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
        return done.test(seen);
      });
    }
    return seen;
  }

  /** Records of {@code topic} among {@code records}. */
  public static List<ConsumerRecord<String, byte[]>> of(String topic, List<ConsumerRecord<String, byte[]>> records) {
    return records.stream().filter(r -> r.topic().equals(topic)).toList();
  }
}
