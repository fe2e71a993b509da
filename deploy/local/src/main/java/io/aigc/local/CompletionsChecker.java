package io.aigc.local;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.Completion;
import io.aigc.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The exactly-once check: reads the completions topic from its start (committed transactions only, as any
 * consumer should) and says which accepted jobs have no completion and which request ids have more than one.
 */
public final class CompletionsChecker {
  /** What the completions topic holds, by request id. */
  public record Report(Map<String, List<Completion>> byId, List<String> missing, List<String> doubled) {
    public boolean exactlyOnce() {
      return missing.isEmpty() && doubled.isEmpty();
    }
  }

  private CompletionsChecker() {}

  /**
   * Reads until every id in {@code accepted} has a completion (or {@code timeout} passes), then on to the topic's
   * current end, so a duplicate written right behind a completion is seen too.
   */
  public static Report check(String bootstrapServers, Collection<String> accepted, Duration timeout) {
    Topics topics = Topics.defaults();
    Map<String, List<Completion>> byId = new HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(KafkaSettings.fromEnv(Env.of(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", bootstrapServers))).consumer("checker-" + System.nanoTime(), "checker"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topics.completions().name()));
      long deadline = System.nanoTime() + timeout.toNanos();
      int emptyPolls = 0;
      while (System.nanoTime() < deadline && (!byId.keySet().containsAll(accepted) || emptyPolls < 5)) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
        emptyPolls = records.isEmpty() ? emptyPolls + 1 : 0;
        for (ConsumerRecord<String, byte[]> r : records) {
          Completion c = topics.completions().valueSerde().decode(r.value());
          byId.computeIfAbsent(c.getRequestId(), k -> new ArrayList<>()).add(c);
        }
      }
    }
    List<String> missing = accepted.stream().filter(id -> !byId.containsKey(id)).toList();
    List<String> doubled = byId.entrySet().stream().filter(e -> e.getValue().size() > 1).map(Map.Entry::getKey)
        .toList();
    return new Report(byId, missing, doubled);
  }
}
