package io.aigc.runtime;

import io.aigc.schemas.Topic;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the pipeline's topics when they are missing, so every service starts on a fresh cluster in any order.
 *
 * <ul>
 *   <li>{@code AIGC_CREATE_TOPICS} (default true): set false where an operator manages topics
 *   <li>{@code AIGC_TOPIC_PARTITIONS} (default 8): the most inference workers that can share the load
 *   <li>{@code AIGC_TOPIC_REPLICATION} (default: the broker's {@code default.replication.factor})
 * </ul>
 */
public final class TopicSetup {
  private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);
  private final boolean create;
  private final int partitions;
  private final Optional<Short> replication;

  private TopicSetup(boolean create, int partitions, Optional<Short> replication) {
    this.create = create;
    this.partitions = partitions;
    this.replication = replication;
  }

  public static TopicSetup fromEnv(Env env) {
    int partitions = env.integer("AIGC_TOPIC_PARTITIONS", 8);
    if (partitions < 1) {
      throw new IllegalArgumentException("AIGC_TOPIC_PARTITIONS must be at least 1, got " + partitions);
    }
    Optional<Short> replication = env.optional("AIGC_TOPIC_REPLICATION")
        .map(v -> (short) env.integer("AIGC_TOPIC_REPLICATION", 1));
    return new TopicSetup(env.bool("AIGC_CREATE_TOPICS", true), partitions, replication);
  }

  /** Creates whichever of {@code topics} do not exist yet; a topic another service created meanwhile is fine. */
  public void ensure(Admin admin, Collection<Topic<?>> topics) throws InterruptedException {
    if (!create) {
      return;
    }
    try {
      Set<String> existing = admin.listTopics().names().get();
      List<NewTopic> missing = new ArrayList<>();
      for (Topic<?> topic : topics) {
        if (!existing.contains(topic.name())) {
          missing.add(new NewTopic(topic.name(), Optional.of(partitions), replication));
        }
      }
      if (missing.isEmpty()) {
        return;
      }
      for (var entry : admin.createTopics(missing).values().entrySet()) {
        try {
          entry.getValue().get();
          log.info("created topic {} ({} partitions)", entry.getKey(), partitions);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot create topics: " + e.getCause(), e.getCause());
    }
  }
}
