package io.aigc.gateway;

import static org.awaitility.Awaitility.await;

import io.aigc.runtime.KafkaSettings;
import io.aigc.schemas.AvroSerde;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.GenerationError;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.StreamEvent;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.Topics;
import io.aigc.schemas.Usage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The rest of the pipeline, played by the test: reads what the gateway publishes on the requests topic, writes
 * stream events to the stream topic as a worker would (to the partition the request names), and completions (or
 * garbage) to the completions topic, as the postprocessor would.
 */
final class FakePipeline implements AutoCloseable {
  /** A request as read from the requests topic, with its key. */
  record Published(String key, GenerationRequest request) {}

  private final KafkaSettings kafka;
  private final Topics topics;
  private final AvroSerde<GenerationRequest> requestSerde;
  private final AvroSerde<Completion> completionSerde;
  private final AvroSerde<StreamEvent> streamSerde;
  private final KafkaConsumer<String, byte[]> consumer;
  private final KafkaProducer<String, byte[]> producer;
  private final List<Published> published = new CopyOnWriteArrayList<>();
  private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
  private final Thread reader;
  private volatile boolean running = true;

  FakePipeline(KafkaSettings kafka, Topics topics) {
    this.kafka = kafka;
    this.topics = topics;
    this.requestSerde = topics.requests().valueSerde();
    this.completionSerde = topics.completions().valueSerde();
    this.streamSerde = topics.stream().valueSerde();
    this.consumer = new KafkaConsumer<>(kafka.consumer(null, "fake-pipeline-requests"), new StringDeserializer(),
        new ByteArrayDeserializer());
    this.producer = new KafkaProducer<>(kafka.producer("fake-pipeline-completions"), new StringSerializer(),
        new ByteArraySerializer());
    List<TopicPartition> partitions = consumer.partitionsFor(topics.requests().name(), Duration.ofSeconds(10))
        .stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    reader = new Thread(this::read, "fake-pipeline");
    reader.start();
  }

  private void read() {
    try {
      while (running) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          published.add(new Published(r.key(), requestSerde.decode(r.value())));
        }
        for (TopicPartition tp : consumer.assignment()) {
          positions.put(tp, consumer.position(tp));
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close();
    }
  }

  /** Every request read so far, in order. */
  List<GenerationRequest> requests() {
    return published.stream().map(Published::request).toList();
  }

  /** Waits for the one request that matches. */
  GenerationRequest awaitRequest(Predicate<GenerationRequest> which) {
    return await().atMost(Duration.ofSeconds(15))
        .until(() -> published.stream().filter(p -> which.test(p.request())).toList(), l -> !l.isEmpty())
        .get(0).request();
  }

  GenerationRequest awaitRequest(String id) {
    return awaitRequest(r -> r.getRequestId().equals(id));
  }

  /** Waits for the request with this prompt. */
  GenerationRequest awaitPrompt(String prompt) {
    return awaitRequest(r -> prompt.equals(r.getPrompt()));
  }

  /** The requests read so far whose prompt starts with {@code prefix}, in order. */
  List<GenerationRequest> requestsPrompted(String prefix) {
    return requests().stream().filter(prompted(prefix)).toList();
  }

  /** Whether a request's prompt starts with {@code prefix} (a chat request's prompt is empty). */
  static Predicate<GenerationRequest> prompted(String prefix) {
    return r -> r.getPrompt() != null && r.getPrompt().startsWith(prefix);
  }

  /** How many times {@code id} was published, once everything published so far has been read. */
  long timesPublished(String id) {
    return timesPublished(r -> r.getRequestId().equals(id));
  }

  /** How many published requests match, once everything published so far has been read. */
  long timesPublished(Predicate<GenerationRequest> which) {
    Map<TopicPartition, Long> ends = producerEnds();
    await().atMost(Duration.ofSeconds(15))
        .until(() -> ends.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), 0L) >= e.getValue()));
    return published.stream().filter(p -> which.test(p.request())).count();
  }

  /** Every request was published with its request id as the key. */
  Map<String, Long> keyMismatches() {
    return published.stream().filter(p -> !p.key().equals(p.request().getRequestId()))
        .collect(Collectors.groupingBy(Published::key, Collectors.counting()));
  }

  private Map<TopicPartition, Long> producerEnds() {
    try (KafkaConsumer<String, byte[]> probe = new KafkaConsumer<>(kafka.consumer(null, "fake-pipeline-probe"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = probe.partitionsFor(topics.requests().name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      probe.assign(partitions);
      return probe.endOffsets(partitions);
    }
  }

  void complete(Completion completion) {
    send(completion.getRequestId(), completionSerde.encode(completion));
  }

  /** Writes raw bytes to the completions topic, as a broken producer would. */
  void send(String key, byte[] value) {
    try {
      producer.send(new ProducerRecord<>(topics.completions().name(), key, value)).get();
    } catch (Exception e) {
      throw new IllegalStateException("cannot write to the completions topic", e);
    }
  }

  /** Writes {@code events} of {@code request}'s job in order, to the stream partition it names (else by key). */
  void stream(GenerationRequest request, StreamEvent... events) {
    for (StreamEvent event : events) {
      streamTo(request.getStreamPartition(), event);
    }
  }

  /** Writes {@code event} to partition {@code partition} of the stream topic (null: by its key). */
  void streamTo(Integer partition, StreamEvent event) {
    try {
      producer.send(new ProducerRecord<>(topics.stream().name(), partition, event.getRequestId(),
          streamSerde.encode(event))).get();
    } catch (Exception e) {
      throw new IllegalStateException("cannot write to the stream topic", e);
    }
  }

  /** A piece of choice {@code choice}'s text that is not its last. */
  static StreamEvent piece(GenerationRequest request, int choice, int sequence, String text) {
    return event(request, choice, sequence, text).build();
  }

  /** A choice's last piece: it ends with {@code finishReason}, and its usage is the prompt's and this choice's. */
  static StreamEvent last(GenerationRequest request, int choice, int sequence, String text, String finishReason,
      Usage usage) {
    return event(request, choice, sequence, text).setFinishReason(finishReason).setUsage(usage).build();
  }

  /** A piece with its tokens' log-probabilities. */
  static StreamEvent withLogprobs(StreamEvent event, List<TextLogprobs> logprobs) {
    return StreamEvent.newBuilder(event).setLogprobs(logprobs).build();
  }

  /** The job failed after its text began. */
  static StreamEvent failure(GenerationRequest request, String code, String message) {
    return event(request, -1, 0, "").setError(new GenerationError(code, message)).build();
  }

  private static StreamEvent.Builder event(GenerationRequest request, int choice, int sequence, String text) {
    return StreamEvent.newBuilder()
        .setRequestId(request.getRequestId())
        .setChoice(choice)
        .setSequence(sequence)
        .setText(text)
        .setModel(request.getModel())
        .setCreatedAt(request.getCreatedAt())
        .setProducer("fake-worker");
  }

  /** A completion of several choices. */
  static Completion ok(GenerationRequest request, List<CompletionChoice> choices, Usage usage) {
    return Completion.newBuilder(ok(request, "", "stop")).setChoices(choices).setUsage(usage).build();
  }

  static Completion ok(GenerationRequest request, String text, String finishReason) {
    return Completion.newBuilder()
        .setRequestId(request.getRequestId())
        .setStatus(CompletionStatus.OK)
        .setError(null)
        .setModel(request.getModel())
        .setCreatedAt(request.getCreatedAt())
        .setCompletedAt(System.currentTimeMillis())
        .setChoices(List.of(new CompletionChoice(0, text, finishReason, null)))
        .setUsage(new Usage(4, 3, 7))
        .setTimings(null)
        .setMetadata(request.getMetadata())
        .build();
  }

  static Completion failed(GenerationRequest request, String code, String message) {
    return Completion.newBuilder(ok(request, "", "stop"))
        .setStatus(CompletionStatus.ERROR)
        .setError(new GenerationError(code, message))
        .setChoices(List.of())
        .setUsage(null)
        .build();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    consumer.wakeup();
    try {
      reader.join(10_000);
    } finally {
      producer.close(Duration.ofSeconds(5));
    }
  }
}
