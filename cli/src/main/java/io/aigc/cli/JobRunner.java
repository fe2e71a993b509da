package io.aigc.cli;

import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.Completion;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.UnreadableRecordException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes jobs to the requests topic and hands over their completions from the completions topic, with never more
 * than a set number unfinished: the pipeline's back-pressure for a client that bypasses the gateway's. One thread
 * does it all, so its callers need no locks.
 */
final class JobRunner implements AutoCloseable {
  private static final Duration POLL = Duration.ofMillis(100);

  /** A job to publish. */
  record Job(String id, GenerationRequest request) {}

  private final CliConfig config;
  private final KafkaProducer<String, GenerationRequest> producer;
  private final TopicScan completions;
  private final AvroSerde<Completion> serde;
  private final AtomicReference<Exception> sendFailure = new AtomicReference<>();

  /**
   * Reads completions written from {@code completionsFrom} on, positioned before anything is published, so no
   * completion of a job published here can pass unseen.
   */
  JobRunner(CliConfig config, Instant completionsFrom) {
    this.config = config;
    this.completions = TopicScan.open(config, config.topics().completions().name(), completionsFrom, null);
    this.serde = config.topics().completions().valueSerde();
    this.producer = new KafkaProducer<>(config.kafka().producer("aigc-cli"),
        config.topics().requests().keySerde().serializer(), config.topics().requests().valueSerde().serializer());
  }

  /**
   * Publishes {@code jobs} in order and hands every completion of theirs, and of {@code published} (jobs published
   * before, by an earlier run), to {@code done}; any other completion read goes to {@code others}. At most
   * {@code maxOutstanding} jobs are unfinished at a time, earlier ones included. Returns when every job has its
   * completion and every completion written before this runner opened has been read, or when {@code stop} says so
   * (checked between polls); true in the first case.
   */
  boolean run(List<Job> jobs, Set<String> published, int maxOutstanding, Consumer<Completion> done,
      Consumer<Completion> others, BooleanSupplier stop) {
    Deque<Job> toPublish = new ArrayDeque<>(jobs);
    Set<String> awaited = new HashSet<>(published);
    jobs.forEach(job -> awaited.add(job.id()));
    String topic = config.topics().requests().name();
    while (!awaited.isEmpty() || !completions.caughtUp()) {
      if (stop.getAsBoolean()) {
        return false;
      }
      while (!toPublish.isEmpty() && awaited.size() - toPublish.size() < maxOutstanding) {
        Job job = toPublish.poll();
        producer.send(new ProducerRecord<>(topic, job.id(), job.request()), (metadata, e) -> {
          if (e != null) {
            sendFailure.compareAndSet(null, e);
          }
        });
      }
      Exception failed = sendFailure.get();
      if (failed != null) {
        throw new CliException("could not publish to " + topic + ": " + failed);
      }
      for (ConsumerRecord<String, byte[]> record : completions.poll(POLL)) {
        Completion completion;
        try {
          completion = serde.decode(record.value());
        } catch (UnreadableRecordException e) {
          continue; // not ours to judge: the pipeline counts and logs such records
        }
        if (awaited.remove(completion.getRequestId())) {
          done.accept(completion);
        } else {
          others.accept(completion);
        }
      }
    }
    return true;
  }

  /** Waits for what was handed to the producer: a job sent is on the topic, or its failure is known. */
  @Override
  public void close() {
    try {
      producer.close(Duration.ofSeconds(30));
    } finally {
      completions.close();
    }
  }
}
