package io.aigc.schemas;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The pipeline's topics, defined once: the five of a request's way, and one to cancel jobs. Names default to
 * {@code generation.*} and can each be changed through an environment variable, so several pipelines can share one
 * cluster.
 *
 * <pre>
 * requests    GenerationRequest   gateway or any producer  -> tokenizer-service
 * tokenized   TokenizedRequest    tokenizer-service        -> inference-worker
 * generated   GeneratedSequence   inference-worker (and errors from earlier stages) -> postprocessor
 * completions Completion          postprocessor            -> gateway and any consumer
 * dlq         DeadLetter          every service, for records it could not process
 * cancellations Cancellation      gateway or any producer  -> every inference worker (a control topic)
 * </pre>
 */
public final class Topics {
  public static final String REQUESTS_ENV = "AIGC_TOPIC_REQUESTS";
  public static final String TOKENIZED_ENV = "AIGC_TOPIC_TOKENIZED";
  public static final String GENERATED_ENV = "AIGC_TOPIC_GENERATED";
  public static final String COMPLETIONS_ENV = "AIGC_TOPIC_COMPLETIONS";
  public static final String DLQ_ENV = "AIGC_TOPIC_DLQ";
  public static final String CANCELLATIONS_ENV = "AIGC_TOPIC_CANCELLATIONS";

  private final Topic<GenerationRequest> requests;
  private final Topic<TokenizedRequest> tokenized;
  private final Topic<GeneratedSequence> generated;
  private final Topic<Completion> completions;
  private final Topic<DeadLetter> dlq;
  private final Topic<Cancellation> cancellations;

  private Topics(Function<String, Optional<String>> env) {
    requests = new Topic<>(env.apply(REQUESTS_ENV).orElse("generation.requests"),
        AvroSerde.of(GenerationRequest.class));
    tokenized = new Topic<>(env.apply(TOKENIZED_ENV).orElse("generation.tokenized"),
        AvroSerde.of(TokenizedRequest.class));
    generated = new Topic<>(env.apply(GENERATED_ENV).orElse("generation.generated"),
        AvroSerde.of(GeneratedSequence.class));
    completions = new Topic<>(env.apply(COMPLETIONS_ENV).orElse("generation.completions"),
        AvroSerde.of(Completion.class));
    dlq = new Topic<>(env.apply(DLQ_ENV).orElse("generation.dlq"), AvroSerde.of(DeadLetter.class));
    cancellations = new Topic<>(env.apply(CANCELLATIONS_ENV).orElse("generation.cancellations"),
        AvroSerde.of(Cancellation.class));
  }

  public static Topics defaults() {
    return new Topics(name -> Optional.empty());
  }

  /** Topic names from {@code AIGC_TOPIC_*} variables where set (looked up by name), defaults elsewhere. */
  public static Topics fromEnvironment(Function<String, Optional<String>> variables) {
    return new Topics(variables);
  }

  /** {@link #fromEnvironment(Function)} from a map of variables. */
  public static Topics fromEnvironment(Map<String, String> variables) {
    return new Topics(name -> Optional.ofNullable(variables.get(name)).filter(v -> !v.isBlank()));
  }

  public Topic<GenerationRequest> requests() {
    return requests;
  }

  public Topic<TokenizedRequest> tokenized() {
    return tokenized;
  }

  public Topic<GeneratedSequence> generated() {
    return generated;
  }

  public Topic<Completion> completions() {
    return completions;
  }

  public Topic<DeadLetter> dlq() {
    return dlq;
  }

  public Topic<Cancellation> cancellations() {
    return cancellations;
  }

  public List<Topic<?>> all() {
    return List.of(requests, tokenized, generated, completions, dlq, cancellations);
  }
}
