package io.aigc.worker;

import io.aigc.engine.GenerationListener;
import io.aigc.engine.GenerationOutcome;
import io.aigc.engine.TokenLogprobs;
import io.aigc.engine.TokenStep;
import io.aigc.runtime.Tracing;
import io.aigc.schemas.GenerationError;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.StreamEvent;
import io.aigc.schemas.TextLogprob;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.TokenizedRequest;
import io.aigc.schemas.Topic;
import io.aigc.schemas.Usage;
import io.aigc.text.TextStream;
import io.aigc.text.TextTokenizer;
import io.aigc.text.TokenTexts;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every job's text as it is generated, on the stream topic: the worker is where tokens are born, so text made here
 * reaches a reader one hop after its token (a Streams stage in between would add a hop and a transaction commit).
 *
 * <p>The engine's listener only queues what each step produced; this class's own thread turns tokens into text
 * with a {@link TextStream} per choice (complete characters only, stop strings held back until known not to be
 * one, cut exactly where the postprocessor cuts) and publishes one {@link StreamEvent} per step and choice; a step
 * that produced nothing printable (half a character, the start of what may be a stop string) waits for the next
 * one's text. When a job ends, each choice's last event carries its finish reason and usage (or one event carries the job's error).
 * The job's own outcome does not wait for its stream: on a machine whose cores the model keeps busy, this thread may
 * run behind the engine, and the completion is what most callers wait for.
 *
 * <p>Events go to the partition the request names ({@code stream_partition}: the gateway waiting for them reads only
 * its own), or by request id. A redo after a crash repeats a job's events from sequence 0 with the same text (the
 * worker seeds unseeded requests from their id). A failed send is counted and logged, never fatal: the completion
 * stays the authoritative answer.
 */
final class TextStreams implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TextStreams.class);
  private final TextTokenizer tokenizer;
  private final Producer<String, byte[]> producer;
  private final Topic<StreamEvent> topic;
  private final String producerId;
  private final WorkerMetrics metrics;
  private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean running = true;

  TextStreams(TextTokenizer tokenizer, Producer<String, byte[]> producer, Topic<StreamEvent> topic, String producerId,
      WorkerMetrics metrics) {
    this.tokenizer = tokenizer;
    this.producer = producer;
    this.topic = topic;
    this.producerId = producerId;
    this.metrics = metrics;
    this.thread = new Thread(this::run, "worker-text-streams");
    this.thread.setDaemon(true);
  }

  TextStreams start() {
    thread.start();
    return this;
  }

  /** The engine's listener for {@code tokenized}: its text goes out as it comes; {@code finished} gets the outcome. */
  GenerationListener listener(TokenizedRequest tokenized, String traceparent, Consumer<GenerationOutcome> finished) {
    Job job = new Job(tokenized, partitionOf(tokenized.getRequest()), traceparent);
    return new GenerationListener() {
      @Override
      public void tokens(int choice, TokenStep step) {
        queue.add(new Step(job, choice, step));
      }

      @Override
      public void finished(GenerationOutcome outcome) {
        queue.add(new End(job, outcome));
        finished.accept(outcome);
      }
    };
  }

  /** The partition the request names, when the stream topic has it; otherwise by key. */
  private Integer partitionOf(GenerationRequest request) {
    Integer partition = request.getStreamPartition();
    if (partition == null) {
      return null;
    }
    int partitions = producer.partitionsFor(topic.name()).size();
    return partition >= 0 && partition < partitions ? partition : null;
  }

  private sealed interface Item permits Step, End {}

  private record Step(Job job, int choice, TokenStep step) implements Item {}

  private record End(Job job, GenerationOutcome outcome) implements Item {}

  /** One job's text so far, per choice. Confined to this class's thread. */
  private final class Job {
    final GenerationRequest request;
    final String model;
    final Integer partition;
    /** The request's trace context, on each of its events. */
    final String traceparent;
    final int promptTokens;
    final TextStream[] streams;
    final int[] sequence;
    /** Per choice, the text each token adds: what its log-probabilities are reported with. */
    final TokenTexts[] tokenTexts;
    /** Log-probabilities of tokens whose text is held back, per choice: they go with the text when it goes. */
    final List<List<TextLogprobs>> carried = new ArrayList<>();

    Job(TokenizedRequest tokenized, Integer partition, String traceparent) {
      this.request = tokenized.getRequest();
      this.model = tokenized.getModel();
      this.partition = partition;
      this.traceparent = traceparent;
      int[] prompt = tokenized.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
      this.promptTokens = prompt.length;
      int n = request.getParams().getN();
      this.streams = new TextStream[n];
      this.sequence = new int[n];
      this.tokenTexts = new TokenTexts[n];
      for (int i = 0; i < n; i++) {
        streams[i] = new TextStream(tokenizer, prompt, request.getParams().getStop());
        tokenTexts[i] = new TokenTexts(tokenizer, prompt);
        carried.add(new ArrayList<>());
      }
    }
  }

  private void run() {
    List<Item> batch = new ArrayList<>();
    while (running) {
      try {
        batch.add(queue.take());
        queue.drainTo(batch);
        process(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // A bug must not stop every later job's stream; the completions still carry the text.
        log.error("streaming text failed for a batch of {} steps", batch.size(), e);
      } finally {
        batch.clear();
      }
    }
  }

  private void process(List<Item> batch) {
    for (Item item : batch) {
      if (item instanceof Step s) {
        emit(s.job(), s.choice(), s.step());
      } else if (item instanceof End end) {
        finish(end);
      }
    }
  }

  /** A step's text goes out at once; a step that produced nothing printable waits for the next one's. */
  private void emit(Job job, int choice, TokenStep step) {
    String text = job.streams[choice].append(step.token());
    if (step.logprobs() != null) {
      job.carried.get(choice).add(textLogprobs(job.tokenTexts[choice], step.token(), step.logprobs()));
    }
    if (!text.isEmpty()) {
      publish(job, event(job, choice, text).setLogprobs(takeCarried(job, choice)).build());
    }
  }

  /** The held-back tokens' log-probabilities, or null when the request did not ask for them. */
  private static List<TextLogprobs> takeCarried(Job job, int choice) {
    if (job.request.getParams().getLogprobs() == null) {
      return null;
    }
    List<TextLogprobs> carried = job.carried.get(choice);
    List<TextLogprobs> out = List.copyOf(carried);
    carried.clear();
    return out;
  }

  private void finish(End end) {
    Job job = end.job();
    GenerationOutcome outcome = end.outcome();
    if (outcome.isFailure()) {
      publish(job, event(job, -1, "")
          .setError(new GenerationError(TaskCodec.errorCode(outcome.failure()), outcome.message())).build());
    } else {
      for (GenerationOutcome.Choice c : outcome.choices()) {
        TextStream.Ending ending = job.streams[c.index()].finish();
        int completion = c.tokenCount();
        publish(job, event(job, c.index(), ending.text())
            .setLogprobs(takeCarried(job, c.index()))
            .setFinishReason(ending.stopped() ? "stop" : c.finishReason().code())
            .setUsage(new Usage(job.promptTokens, completion, job.promptTokens + completion))
            .build());
      }
    }
  }

  private StreamEvent.Builder event(Job job, int choice, String text) {
    int sequence = choice < 0 ? 0 : job.sequence[choice]++;
    return StreamEvent.newBuilder()
        .setRequestId(job.request.getRequestId())
        .setChoice(choice)
        .setSequence(sequence)
        .setText(text)
        .setLogprobs(null)
        .setFinishReason(null)
        .setUsage(null)
        .setError(null)
        .setModel(job.model)
        .setCreatedAt(job.request.getCreatedAt())
        .setProducer(producerId);
  }

  /** A token's log-probabilities with the text it (and each alternative) adds where it stands. */
  private static TextLogprobs textLogprobs(TokenTexts texts, int token, TokenLogprobs logprobs) {
    // The alternatives first: they are about the place before this token.
    List<TextLogprob> top = logprobs.top().stream().map(a -> new TextLogprob(texts.at(a.token()), a.logprob())).toList();
    return new TextLogprobs(texts.next(token), logprobs.logprob(), top);
  }

  private void publish(Job job, StreamEvent event) {
    String id = job.request.getRequestId();
    ProducerRecord<String, byte[]> record =
        new ProducerRecord<>(topic.name(), job.partition, id, topic.valueSerde().encode(event));
    Tracing.write(record.headers(), job.traceparent);
    producer.send(record, (metadata, error) -> {
          if (error == null) {
            metrics.streamEvent();
          } else {
            metrics.streamEventFailed();
            log.warn("a stream event of {} was not written: {}", id, error.toString());
          }
        });
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
