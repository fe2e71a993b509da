package io.aigc.schemas;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;

/**
 * The pipeline's topics, defined once: the five of a request's way, one to cancel jobs, and one that carries the
 * text as it is generated. Names default to {@code generation.*} and can each be changed through an environment
 * variable, so several pipelines can share one cluster.
 *
 * <pre>
 * requests    GenerationRequest   gateway or any producer  -> tokenizer-service
 * tokenized.&lt;model&gt; TokenizedRequest tokenizer-service -> the inference workers of that model
 * generated   GeneratedSequence   inference-worker (and errors from earlier stages) -> postprocessor
 * completions Completion          postprocessor            -> gateway and any consumer
 * dlq         DeadLetter          every service, for records it could not process
 * cancellations Cancellation      gateway or any producer  -> every inference worker (a control topic)
 * stream      StreamEvent         inference-worker         -> the gateway that waits, and any consumer
 * </pre>
 *
 * <p>The tokenized topic is one per served model, named {@code <AIGC_TOPIC_TOKENIZED>.<model>}
 * ({@link #tokenized(String)}): each model's workers read their own topic as a consumer group of their own, so a
 * model's jobs never wait behind another's. {@link #tokenized()} is that name's prefix, not a topic anyone reads.
 */
public record Topics(Topic<GenerationRequest> requests, Topic<TokenizedRequest> tokenized,
    Topic<GeneratedSequence> generated, Topic<Completion> completions, Topic<DeadLetter> dlq,
    Topic<Cancellation> cancellations, Topic<StreamEvent> stream) {
  public static Topics defaults() {
    return fromEnvironment(name -> Optional.empty());
  }

  /** Topic names from {@code AIGC_TOPIC_*} variables where set (looked up by name), defaults elsewhere. */
  public static Topics fromEnvironment(Function<String, Optional<String>> env) {
    return new Topics(
        topic(env, "AIGC_TOPIC_REQUESTS", "generation.requests", GenerationRequest.class),
        topic(env, "AIGC_TOPIC_TOKENIZED", "generation.tokenized", TokenizedRequest.class),
        topic(env, "AIGC_TOPIC_GENERATED", "generation.generated", GeneratedSequence.class),
        topic(env, "AIGC_TOPIC_COMPLETIONS", "generation.completions", Completion.class),
        topic(env, "AIGC_TOPIC_DLQ", "generation.dlq", DeadLetter.class),
        topic(env, "AIGC_TOPIC_CANCELLATIONS", "generation.cancellations", Cancellation.class),
        topic(env, "AIGC_TOPIC_STREAM", "generation.stream", StreamEvent.class));
  }

  /** {@link #fromEnvironment(Function)} from a map of variables. */
  public static Topics fromEnvironment(Map<String, String> variables) {
    return fromEnvironment(name -> Optional.ofNullable(variables.get(name)).filter(v -> !v.isBlank()));
  }

  private static <V extends SpecificRecord> Topic<V> topic(Function<String, Optional<String>> env, String variable,
      String defaultName, Class<V> type) {
    return new Topic<>(env.apply(variable).orElse(defaultName), AvroSerde.of(type));
  }

  /** The tokenized topic of {@code model}: what the tokenizer writes for that model's workers, and only theirs. */
  public Topic<TokenizedRequest> tokenized(String model) {
    return new Topic<>(tokenized.name() + "." + model, tokenized.valueSerde());
  }

  /** Every topic of a pipeline that serves {@code models}: the shared ones, and each model's tokenized topic. */
  public List<Topic<?>> all(Collection<String> models) {
    List<Topic<?>> all = new ArrayList<>(List.of(requests, generated, completions, dlq, cancellations, stream));
    models.forEach(model -> all.add(tokenized(model)));
    return List.copyOf(all);
  }
}
