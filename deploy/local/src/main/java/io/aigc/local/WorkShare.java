package io.aigc.local;

import io.aigc.runtime.Env;
import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.Topics;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * How a model's worker pool shares its work, read from Kafka as an operator would: which member of the pool's
 * consumer group holds which partitions (by client id, which is the worker's {@code AIGC_WORKER_ID}), and which worker
 * wrote each generated sequence (its {@code producer} field).
 */
public final class WorkShare {
  private WorkShare() {}

  /** The group's members now, each client id with its partitions (sorted); empty when the group has no member. */
  public static Map<String, List<Integer>> partitions(String bootstrapServers, String group) throws Exception {
    try (Admin admin = Admin.create(settings(bootstrapServers).admin("work-share"))) {
      ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).describedGroups()
          .get(group).get(15, TimeUnit.SECONDS);
      Map<String, List<Integer>> byMember = new TreeMap<>();
      for (MemberDescription member : description.members()) {
        byMember.merge(member.clientId(), member.assignment().topicPartitions().stream()
            .map(TopicPartition::partition).sorted().toList(), (a, b) -> Stream.concat(a.stream(),
            b.stream()).sorted().toList());
      }
      return byMember;
    }
  }

  /**
   * Generated sequences on the generated topic whose request id is in {@code ids}, counted by the worker that wrote
   * them (a job redone after a crash counts for each worker that wrote it). Reads the topic to its current end.
   */
  public static Map<String, Integer> sequencesByWorker(String bootstrapServers, Collection<String> ids) {
    Topics topics = Topics.defaults();
    Map<String, Integer> byWorker = new TreeMap<>();
    Set<String> wanted = new HashSet<>(ids);
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
        settings(bootstrapServers).consumer(null, "work-share"), new StringDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topics.generated().name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (wanted.contains(record.key())) {
            GeneratedSequence sequence = topics.generated().valueSerde().decode(record.value());
            byWorker.merge(String.valueOf(sequence.getProducer()), 1, Integer::sum);
          }
        }
      }
    }
    return byWorker;
  }

  private static KafkaSettings settings(String bootstrapServers) {
    return KafkaSettings.fromEnv(Env.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers)));
  }
}
