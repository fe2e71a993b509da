package io.aigc.worker;

import static io.aigc.runtime.Closeables.closing;

import io.aigc.engine.GenerationEngine;
import io.aigc.engine.OnnxModel;
import io.aigc.model.ModelDirectory;
import io.aigc.runtime.Closeables;
import io.aigc.runtime.DeadLetters;
import io.aigc.runtime.HealthServer;
import io.aigc.runtime.KafkaSettings;
import io.aigc.runtime.Service;
import io.aigc.runtime.Tracing;
import io.aigc.schemas.DeadLetterReason;
import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.Events;
import io.aigc.schemas.GeneratedSequence;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.TokenizedRequest;
import io.aigc.schemas.Topics;
import io.aigc.schemas.UnreadableRecordException;
import io.aigc.text.TextTokenizer;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inference worker: the Kafka shell around the {@link GenerationEngine}. A member of a consumer group on the
 * tokenized topic, it feeds the engine and publishes each request's generated tokens to the generated topic. One
 * more worker (one more GPU) takes over some of the partitions. What a record becomes in the engine's terms and back
 * is {@link TaskCodec}'s business.
 *
 * <p>The path of one record:
 * <ol>
 *   <li>poll it from the tokenized topic (the poll thread; fetching pauses while the engine's queue is full);
 *   <li>decode and check it; what cannot be generated goes to the dead-letter topic, and its caller gets an error
 *       through the generated topic;
 *   <li>submit it to the engine, which batches it with whatever else is running;
 *   <li>while it is generated, its text goes to the stream topic step by step ({@link TextStreams});
 *   <li>when the engine is done, publish a {@link GeneratedSequence} (tokens or error);
 *   <li>once the broker has acknowledged that record, the input offset may be committed ({@link OffsetTracker}).
 * </ol>
 *
 * <p>So a crash never loses a request (its offset was not committed, another worker redoes it) and may generate it
 * twice; the postprocessor keeps the first result per request id.
 */
public final class WorkerService implements Service {
  private static final Logger log = LoggerFactory.getLogger(WorkerService.class);
  /**
   * Cancellations remembered, so a job cancelled while it waited in Kafka is refused when it arrives: about 10 MB at
   * most, and more than the cancellations of the lookback hour at any rate a gateway accepts jobs.
   */
  private static final int MAX_REMEMBERED_CANCELLATIONS = 100_000;

  private final WorkerConfig config;
  private final Topics topics;
  private final KafkaSettings kafka;
  private final WorkerMetrics metrics = new WorkerMetrics();
  private final OffsetTracker offsets = new OffsetTracker();
  /** Request ids in the engine per input partition, to drop them when the partition is given away. */
  private final Map<TopicPartition, Set<String>> inFlight = new ConcurrentHashMap<>();

  private final ModelDirectory modelDir;
  private OnnxModel model;
  private TextTokenizer tokenizer;
  private GenerationEngine engine;
  private TextStreams textStreams;
  private KafkaProducer<String, byte[]> producer;
  /** The stream's text events: best effort, since the completion carries the same text. */
  private KafkaProducer<String, byte[]> streamProducer;
  private KafkaConsumer<String, byte[]> consumer;
  private Cancellations cancellations;
  private HealthServer health;
  private Tracing tracing;
  private Thread pollThread;
  private volatile boolean running;
  private volatile boolean assigned;
  private volatile Throwable fatal;

  /** Opens the model folder now, so a wrong {@code AIGC_MODEL_DIR} fails before anything starts. */
  public WorkerService(WorkerConfig config) {
    this.config = config;
    this.topics = config.common().topics();
    this.kafka = config.common().kafka();
    this.modelDir = ModelDirectory.open(config.modelDir());
  }

  @Override
  public String name() {
    return "inference-worker";
  }

  @Override
  public void start() throws Exception {
    try (Admin admin = Admin.create(kafka.admin(config.workerId() + "-setup"))) {
      config.common().topicSetup().ensure(admin, topics.all(List.of(modelDir.name())));
    }
    tracing = Tracing.start(config.common().tracing(), name());
    model = OnnxModel.open(modelDir, config.session());
    tokenizer = TextTokenizer.load(modelDir);
    engine = new GenerationEngine(model, tokenizer, config.engine(), metrics).start();
    metrics.register(engine, model, config.engine(), modelDir.name());

    producer = new KafkaProducer<>(kafka.producer(config.workerId()), new StringSerializer(), new ByteArraySerializer());
    streamProducer = new KafkaProducer<>(kafka.bestEffortProducer(config.workerId() + "-stream"),
        new StringSerializer(), new ByteArraySerializer());
    textStreams = new TextStreams(tokenizer, streamProducer, topics.stream(), config.workerId(), metrics).start();
    cancellations = new Cancellations(kafka, config.workerId(), topics.cancellations(), config.cancellationLookback(),
        MAX_REMEMBERED_CANCELLATIONS, id -> engine.cancel(id, true));
    cancellations.start();
    Map<String, Object> consumerProps = kafka.consumer(config.group(), config.workerId());
    consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.min(100, config.maxWaiting()));
    // The tokenizer's records are read before its transaction commits, which spares every request the wait for that
    // commit. A record of a transaction the tokenizer then aborts is still a real request, which the tokenizer writes
    // again: the worker generates it twice, the same tokens both times (requests are seeded by id), and the
    // postprocessor keeps one completion, so each job still gets exactly one.
    consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), new ByteArrayDeserializer());
    running = true;
    pollThread = new Thread(this::pollLoop, "worker-poll");
    pollThread.start();
    health = HealthServer.start(config.health(), metrics.registry(), () -> fatal == null, this::ready);
    log.info("inference-worker {}: model {} on {}, group {} on {} ({}), health and metrics on port {}",
        config.workerId(), modelDir.name(), model.device(), config.group(), kafka.bootstrapServers(),
        kafka.securityProtocol(), health.port());
  }

  @Override
  public boolean ready() {
    return running && assigned && fatal == null;
  }

  /** The port /metrics is served on. */
  public int metricsPort() {
    return health.port();
  }

  // ---- the poll thread: the only one that touches the consumer ----

  private void pollLoop() {
    // This model's topic only: each model's pool is a consumer group of its own on a topic of its own.
    consumer.subscribe(List.of(topics.tokenized(modelDir.name()).name()), new Rebalance());
    long lastCommit = System.nanoTime();
    boolean paused = false;
    try {
      while (running && fatal == null) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(50))) {
          handle(record);
        }
        // Back-pressure: beyond the batch and a queue, records wait in Kafka rather than in this process.
        int waiting = engine.waitingRequests();
        if (!paused && waiting >= config.maxWaiting()) {
          consumer.pause(consumer.assignment());
          paused = true;
        } else if (paused && waiting < Math.max(1, config.maxWaiting() / 2)) {
          consumer.resume(consumer.paused());
          paused = false;
        }
        if (System.nanoTime() - lastCommit >= config.commitInterval().toNanos()) {
          commit();
          lastCommit = System.nanoTime();
        }
      }
      drain();
    } catch (WakeupException e) {
      // close() during a poll
    } catch (RuntimeException e) {
      fatal = e;
      log.error("the poll loop failed; this worker stops taking requests", e);
    } finally {
      try {
        commit();
      } catch (RuntimeException e) {
        log.warn("final offset commit failed; those records will be redone", e);
      }
      // Leave the group now rather than let it wait out the session timeout: the partitions move to the other
      // workers at once (a dynamic member leaves on close anyway; said here, since the drain relies on it).
      consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
          .withTimeout(Duration.ofSeconds(5)));
    }
  }

  /**
   * On a clean stop (SIGTERM): fetch nothing more, let what the engine holds finish within the drain timeout, and
   * hand back the rest: dropped from the engine without an answer and left uncommitted, so the worker that gets the
   * partition redoes it. The finally block then commits what finished and leaves the group.
   */
  private void drain() {
    consumer.pause(consumer.assignment());
    int holding = offsets.unfinishedTotal();
    log.info("draining: {} requests to finish within {}", holding, config.drainTimeout());
    long deadline = System.nanoTime() + config.drainTimeout().toNanos();
    while (System.nanoTime() < deadline && offsets.unfinishedTotal() > 0) {
      consumer.poll(Duration.ofMillis(50)); // keeps the group membership alive; returns nothing while paused
      commit();
    }
    int handedBack = offsets.unfinishedTotal();
    if (handedBack > 0) {
      log.warn("drain timeout: handing back {} unfinished requests to the group", handedBack);
      inFlight.values().forEach(ids -> ids.forEach(id -> engine.cancel(id, false)));
    }
    log.info("drained: {} finished, {} handed back", holding - Math.min(holding, handedBack), handedBack);
  }

  private void commit() {
    var committable = offsets.committable();
    if (!committable.isEmpty()) {
      consumer.commitSync(committable);
    }
  }

  private void handle(ConsumerRecord<String, byte[]> record) {
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    OffsetTracker.Ticket ticket = offsets.started(partition, record.offset());
    // Its span lasts until what it became is acknowledged; its trace context goes on every record it becomes.
    Tracing.Hop hop = tracing.start("generate " + modelDir.name(), SpanKind.CONSUMER, record.headers(), record.key(),
        modelDir.name());
    TokenizedRequest tokenized;
    try {
      tokenized = topics.tokenized().valueSerde().decode(record.value());
    } catch (UnreadableRecordException e) {
      deadLetter(record, ticket, e.reason(), e.getMessage(), null, ErrorCodes.POISON_RECORD, hop);
      return;
    }
    GenerationRequest request = tokenized.getRequest();
    Optional<String> problem = TaskCodec.problemWith(record.key(), tokenized, model.spec());
    if (problem.isPresent()) {
      deadLetter(record, ticket, DeadLetterReason.INVALID_VALUE, problem.get(), request, ErrorCodes.INVALID_REQUEST,
          hop);
      return;
    }
    if (cancellations.contains(request.getRequestId())) {
      // Cancelled while it waited in Kafka: its caller gets the cancellation, the model does no work.
      publish(Events.failed(request, tokenized.getModel(), tokenized.getPromptTokenIds(), ErrorCodes.CANCELLED,
          "the request was cancelled", config.workerId()), ticket, hop);
      return;
    }
    if (!tokenized.getModel().equals(modelDir.name())) {
      // A valid request for another model (a misrouted deployment): the caller learns it, nothing is dead.
      publish(Events.failed(request, tokenized.getModel(), tokenized.getPromptTokenIds(), ErrorCodes.MODEL_NOT_FOUND,
          "this worker serves " + modelDir.name() + ", not " + tokenized.getModel(), config.workerId()), ticket, hop);
      return;
    }
    inFlight.computeIfAbsent(partition, p -> ConcurrentHashMap.newKeySet()).add(request.getRequestId());
    engine.submit(TaskCodec.task(tokenized, textStreams.listener(tokenized, hop.traceparent(), outcome -> {
      Set<String> ids = inFlight.get(partition);
      if (ids != null) {
        ids.remove(request.getRequestId());
      }
      publish(TaskCodec.generated(tokenized, outcome, config.workerId()), ticket, hop);
    })));
  }

  /** The dead letter and, when the request id is known, the caller's error; the offset is done when both are. */
  private void deadLetter(ConsumerRecord<String, byte[]> record, OffsetTracker.Ticket ticket, DeadLetterReason reason,
      String message, GenerationRequest request, String errorCode, Tracing.Hop hop) {
    String requestId = request != null ? request.getRequestId() : record.key();
    boolean notifyCaller = requestId != null && !requestId.isEmpty();
    metrics.deadLetter(reason);
    DeadLetters.Source source = new DeadLetters.Source(record.topic(), record.partition(), record.offset(),
        record.timestamp(), record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8),
        record.value());
    AtomicInteger pending = new AtomicInteger(notifyCaller ? 2 : 1);
    Runnable done = () -> {
      if (pending.decrementAndGet() == 0) {
        offsets.finished(ticket);
        hop.end();
      }
    };
    send(topics.dlq().name(), requestId, topics.dlq().valueSerde().encode(
        DeadLetters.of(config.workerId(), source, reason, message, requestId)), hop, done);
    if (notifyCaller) {
      send(topics.generated().name(), requestId, topics.generated().valueSerde().encode(Events.callerError(requestId,
          request, source.timestampOr(Instant.EPOCH), modelDir.name(), errorCode, message, config.workerId())), hop,
          done);
    }
  }

  private void publish(GeneratedSequence generated, OffsetTracker.Ticket ticket, Tracing.Hop hop) {
    metrics.published(generated);
    if (generated.getError() != null) {
      hop.span().setStatus(StatusCode.ERROR, generated.getError().getCode());
    }
    send(topics.generated().name(), generated.getRequest().getRequestId(),
        topics.generated().valueSerde().encode(generated), hop, () -> {
          offsets.finished(ticket);
          hop.end();
        });
  }

  private void send(String topic, String key, byte[] value, Tracing.Hop hop, Runnable onAcknowledged) {
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, value);
    hop.onto(record.headers());
    producer.send(record, (metadata, error) -> {
      if (error == null) {
        onAcknowledged.run();
      } else {
        // The idempotent producer already retried for delivery.timeout.ms: the broker is gone or refuses us.
        // Stop taking work; what is uncommitted is redone by the worker that gets these partitions.
        fatal = error;
        log.error("cannot publish to {}; this worker stops taking requests", topic, error);
      }
    });
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      commit();
      handOver(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      handOver(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      assigned = true;
      if (!partitions.isEmpty()) {
        log.info("assigned {}", partitions);
      }
    }

    /** Requests of partitions given away are dropped silently: their new owner redoes them. */
    private void handOver(Collection<TopicPartition> partitions) {
      for (TopicPartition p : partitions) {
        Set<String> ids = inFlight.remove(p);
        if (ids != null) {
          ids.forEach(id -> engine.cancel(id, false));
        }
      }
      offsets.forget(partitions);
    }
  }

  @Override
  public void close() {
    running = false;
    if (pollThread != null) {
      try {
        pollThread.join(config.drainTimeout().plusSeconds(10).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // The engine first: what it still holds ends with outcomes that go out through the producers.
    Closeables.closeAll(engine, textStreams, closing(producer, p -> p.close(Duration.ofSeconds(5))),
        closing(streamProducer, p -> p.close(Duration.ofSeconds(5))), cancellations, health, tokenizer, model,
        tracing);
  }
}
