package io.aigc.cli;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a replay found, per request and in total. Each request has one outcome:
 * <ul>
 *   <li>{@code identical}: both succeeded with the same text and finish reason in every choice
 *   <li>{@code changed}: both succeeded, and some choice's text or finish reason differs
 *   <li>{@code error}: either failed (the error codes say which)
 *   <li>{@code no_old_completion}: the original has no completion on the topic (still running, or past retention)
 *   <li>{@code pending}: the replay had not completed when the command was stopped
 * </ul>
 * Written as Markdown for people, or as JSON (for a file named {@code *.json}) for programs.
 */
record ReplayReport(Replay.Options options, Replay.Result result, List<Row> rows, Map<String, Integer> counts) {
  static final List<String> OUTCOMES = List.of("identical", "changed", "error", "no_old_completion", "pending");
  private static final JsonMapper JSON = new JsonMapper();

  /** One side of a row: what a completion says, or nothing when there is none. */
  record Side(String status, String model, Integer completionTokens, int chars, List<String> finishReasons,
      String errorCode) {
    static Side of(Completion c) {
      if (c == null) {
        return null;
      }
      int chars = 0;
      List<String> reasons = new ArrayList<>();
      for (CompletionChoice choice : c.getChoices()) {
        chars += choice.getText().codePointCount(0, choice.getText().length());
        reasons.add(choice.getFinishReason());
      }
      return new Side(c.getStatus().name().toLowerCase(Locale.ROOT), c.getModel(),
          c.getUsage() == null ? null : c.getUsage().getCompletionTokens(), chars, reasons,
          c.getError() == null ? null : c.getError().getCode());
    }
  }

  record Row(String oldId, String newId, String outcome, Side before, Side after) {}

  static ReplayReport of(Replay.Options options, Replay.Result result) {
    List<Row> rows = new ArrayList<>();
    Map<String, Integer> counts = new LinkedHashMap<>();
    OUTCOMES.forEach(o -> counts.put(o, 0));
    int oldErrors = 0;
    int newErrors = 0;
    for (Replay.Pair pair : result.pairs()) {
      String outcome = outcome(pair.before(), pair.after());
      counts.merge(outcome, 1, Integer::sum);
      oldErrors += pair.before() != null && pair.before().getStatus() != CompletionStatus.OK ? 1 : 0;
      newErrors += pair.after() != null && pair.after().getStatus() != CompletionStatus.OK ? 1 : 0;
      rows.add(new Row(pair.old().getRequestId(), pair.newId(), outcome, Side.of(pair.before()),
          Side.of(pair.after())));
    }
    counts.put("old_errors", oldErrors);
    counts.put("new_errors", newErrors);
    return new ReplayReport(options, result, rows, counts);
  }

  static String outcome(Completion before, Completion after) {
    if (after == null) {
      return "pending";
    }
    if (before == null) {
      return "no_old_completion";
    }
    if (before.getStatus() != CompletionStatus.OK || after.getStatus() != CompletionStatus.OK) {
      return "error";
    }
    if (before.getChoices().size() != after.getChoices().size()) {
      return "changed";
    }
    for (int i = 0; i < before.getChoices().size(); i++) {
      CompletionChoice a = before.getChoices().get(i);
      CompletionChoice b = after.getChoices().get(i);
      if (!a.getText().equals(b.getText()) || !a.getFinishReason().equals(b.getFinishReason())) {
        return "changed";
      }
    }
    return "identical";
  }

  /** One line for the terminal. */
  String summary() {
    return String.format(Locale.ROOT, "replayed %d requests: %d identical, %d changed, %d errors, %d without an old "
        + "completion%s", rows.size(), counts.get("identical"), counts.get("changed"), counts.get("error"),
        counts.get("no_old_completion"), counts.get("pending") > 0 ? ", " + counts.get("pending") + " pending" : "");
  }

  String json() {
    ObjectNode root = JSON.createObjectNode();
    root.put("from", options.from().toString()).put("to", options.to().toString())
        .put("model", options.model()).put("task", options.task())
        .put("requests", rows.size()).put("skipped_replays", result.skippedReplays())
        .put("unreadable", result.unreadable()).put("finished", result.finished());
    ObjectNode c = root.putObject("counts");
    counts.forEach(c::put);
    ArrayNode list = root.putArray("rows");
    for (Row row : rows) {
      ObjectNode r = list.addObject().put("old_id", row.oldId()).put("new_id", row.newId())
          .put("outcome", row.outcome());
      side(r, "old", row.before());
      side(r, "new", row.after());
    }
    return root.toPrettyString() + "\n";
  }

  private static void side(ObjectNode row, String name, Side side) {
    if (side == null) {
      row.putNull(name);
      return;
    }
    ObjectNode s = row.putObject(name).put("status", side.status()).put("model", side.model())
        .put("completion_tokens", side.completionTokens()).put("chars", side.chars())
        .put("error_code", side.errorCode());
    ArrayNode reasons = s.putArray("finish_reasons");
    side.finishReasons().forEach(reasons::add);
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("# Replay report\n\n");
    md.append("Requests from ").append(options.from()).append(" to ").append(options.to());
    if (options.task() != null) {
      md.append(", task `").append(options.task()).append('`');
    }
    md.append(", replayed ").append(options.model() == null ? "on their own models" : "on model `"
        + options.model() + "`").append(": ").append(rows.size()).append(" requests");
    if (result.skippedReplays() > 0 || result.unreadable() > 0) {
      md.append(" (left out: ").append(result.skippedReplays()).append(" replays, ").append(result.unreadable())
          .append(" unreadable records)");
    }
    md.append(result.finished() ? ".\n\n" : ". Stopped before every replay completed.\n\n");
    md.append("| Outcome | Requests |\n| --- | ---: |\n");
    counts.forEach((k, v) -> md.append("| ").append(k.replace('_', ' ')).append(" | ").append(v).append(" |\n"));
    md.append("\n| Old id | New id | Outcome | Old tokens | New tokens | Old chars | New chars | Old finish | "
        + "New finish | Errors |\n| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |\n");
    for (Row row : rows) {
      md.append("| ").append(row.oldId()).append(" | ").append(row.newId()).append(" | ").append(row.outcome())
          .append(" | ").append(tokens(row.before())).append(" | ").append(tokens(row.after()))
          .append(" | ").append(row.before() == null ? "" : row.before().chars())
          .append(" | ").append(row.after() == null ? "" : row.after().chars())
          .append(" | ").append(finish(row.before())).append(" | ").append(finish(row.after()))
          .append(" | ").append(errors(row)).append(" |\n");
    }
    return md.toString();
  }

  private static String tokens(Side side) {
    return side == null || side.completionTokens() == null ? "" : side.completionTokens().toString();
  }

  private static String finish(Side side) {
    return side == null ? "" : String.join(", ", side.finishReasons());
  }

  private static String errors(Row row) {
    String before = row.before() == null || row.before().errorCode() == null ? null : "old: " + row.before().errorCode();
    String after = row.after() == null || row.after().errorCode() == null ? null : "new: " + row.after().errorCode();
    return before == null ? (after == null ? "" : after) : after == null ? before : before + "; " + after;
  }
}
