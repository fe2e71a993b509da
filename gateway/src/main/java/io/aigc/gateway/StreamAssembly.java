package io.aigc.gateway;

import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.GenerationError;
import io.aigc.schemas.StreamEvent;
import io.aigc.schemas.TextLogprobs;
import io.aigc.schemas.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A job's choices as its stream events tell them, so both a streamed answer ({@link EventStream}) and a whole one
 * ({@link CompletionsHandler}) follow the same rules:
 *
 * <ul>
 *   <li>Per choice, events are taken in sequence order; a sequence seen already (a worker's redo after a crash,
 *       which repeats the same text) is dropped. A repeat whose text differs, or a gap, detaches the choice from the
 *       events: its completion then decides.
 *   <li>A choice's last event has its {@code finish_reason} and usage.
 *   <li>The completion, the one authoritative outcome, supplies what a choice still lacks; its text must start with
 *       what the events told, or the two {@linkplain Diverged diverged}.
 * </ul>
 *
 * <p>Confined to one thread (a request's event loop).
 */
final class StreamAssembly {
  /** Text one event (or the completion) adds to a choice; {@code finishReason} set when it is the choice's last. */
  record Piece(int choice, String text, List<TextLogprobs> logprobs, String finishReason) {}

  /** What the events or the completion add, in order: pieces, or the job's error. */
  sealed interface Step permits Pieces, Failed, Diverged {}

  record Pieces(List<Piece> pieces) implements Step {}

  /** The job failed (an error event, or an error completion), after {@code before} (what earlier events added). */
  record Failed(GenerationError error, List<Piece> before) implements Step {}

  /** The completion's text of a choice does not begin with what its events told. */
  record Diverged(int choice) implements Step {}

  private static final class Choice {
    /** Set by the choice's last piece. */
    String finishReason;
    final StringBuilder text = new StringBuilder();
    /** The text's length after each sequence, so a repeated event can be compared with what it told. */
    final List<Integer> ends = new ArrayList<>();
    final List<TextLogprobs> logprobs = new ArrayList<>();
    boolean detached;
    Usage usage;

    boolean finished() {
      return finishReason != null;
    }

    boolean repeats(int sequence, String piece) {
      int start = sequence == 0 ? 0 : ends.get(sequence - 1);
      return ends.get(sequence) - start == piece.length() && text.substring(start, ends.get(sequence)).equals(piece);
    }
  }

  private final Choice[] choices;

  StreamAssembly(int n) {
    this.choices = new Choice[n];
    for (int i = 0; i < n; i++) {
      choices[i] = new Choice();
    }
  }

  /** Takes the job's next events. */
  Step events(List<StreamEvent> events) {
    List<Piece> pieces = new ArrayList<>();
    for (StreamEvent event : events) {
      if (event.getError() != null || event.getChoice() < 0) {
        return new Failed(event.getError(), pieces);
      }
      if (event.getChoice() >= choices.length) {
        continue;
      }
      Choice choice = choices[event.getChoice()];
      if (choice.finished() || choice.detached) {
        continue;
      }
      int sequence = event.getSequence();
      if (sequence < choice.ends.size()) {
        choice.detached = !choice.repeats(sequence, event.getText());
      } else if (sequence > choice.ends.size()) {
        choice.detached = true;
      } else {
        pieces.add(add(event.getChoice(), event.getText(), event.getLogprobs(), event.getFinishReason()));
        if (event.getFinishReason() != null) {
          choice.usage = event.getUsage();
        }
      }
    }
    return new Pieces(pieces);
  }

  /** Takes the job's completion: what each unfinished choice still lacks, or why it cannot be told. */
  Step completion(Completion completion) {
    if (completion.getStatus() != CompletionStatus.OK) {
      return new Failed(completion.getError(), List.of());
    }
    List<Piece> pieces = new ArrayList<>();
    for (CompletionChoice done : completion.getChoices()) {
      int index = done.getIndex();
      if (index < 0 || index >= choices.length || choices[index].finished()) {
        continue;
      }
      Choice choice = choices[index];
      String told = choice.text.toString();
      if (!done.getText().startsWith(told)) {
        return new Diverged(index);
      }
      List<TextLogprobs> logprobs = done.getLogprobs();
      pieces.add(add(index, done.getText().substring(told.length()), logprobs == null ? null
          : logprobs.subList(Math.min(choice.logprobs.size(), logprobs.size()), logprobs.size()),
          done.getFinishReason()));
    }
    return new Pieces(pieces);
  }

  private Piece add(int index, String text, List<TextLogprobs> logprobs, String finishReason) {
    Choice choice = choices[index];
    choice.text.append(text);
    choice.ends.add(choice.text.length());
    if (logprobs != null) {
      choice.logprobs.addAll(logprobs);
    }
    choice.finishReason = finishReason;
    return new Piece(index, text, logprobs, finishReason);
  }

  boolean allFinished() {
    for (Choice choice : choices) {
      if (!choice.finished()) {
        return false;
      }
    }
    return true;
  }

  /** Every choice's usage from its last event, summed (the prompt once); null until all have one. */
  Usage usage() {
    int completionTokens = 0;
    for (Choice choice : choices) {
      if (!choice.finished() || choice.usage == null) {
        return null;
      }
      completionTokens += choice.usage.getCompletionTokens();
    }
    int promptTokens = choices[0].usage.getPromptTokens();
    return new Usage(promptTokens, completionTokens, promptTokens + completionTokens);
  }

  /**
   * The whole answer the events told, once every choice has ended with its usage: what the completion will say (the
   * worker cuts the text with the postprocessor's rule), read one hop sooner.
   */
  Completion asCompletion(String id, long createdAtMs, String model, boolean logprobs) {
    List<CompletionChoice> done = new ArrayList<>(choices.length);
    for (int i = 0; i < choices.length; i++) {
      Choice c = choices[i];
      done.add(new CompletionChoice(i, c.text.toString(), c.finishReason, logprobs ? List.copyOf(c.logprobs) : null));
    }
    long now = System.currentTimeMillis();
    return Completion.newBuilder().setRequestId(id).setStatus(CompletionStatus.OK).setError(null).setModel(model)
        .setCreatedAt(createdAtMs).setCompletedAt(now).setChoices(done).setUsage(usage()).setTimings(null)
        .setMetadata(Map.of()).build();
  }
}
