package io.aigc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.GenerationError;
import io.aigc.schemas.GenerationParams;
import io.aigc.schemas.GenerationRequest;
import io.aigc.schemas.Usage;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplayReportTest {
  static final Replay.Options OPTIONS = new Replay.Options(Instant.parse("2026-12-01T01:00:00Z"),
      Instant.parse("2026-12-01T02:00:00Z"), "tiny-llama", null, 8);

  static Completion ok(String id, String text, String finish) {
    return Completion.newBuilder().setRequestId(id).setStatus(CompletionStatus.OK).setModel("tiny-llama")
        .setCreatedAt(0).setCompletedAt(1)
        .setChoices(List.of(new CompletionChoice(0, text, finish, null)))
        .setUsage(new Usage(3, text.length(), 3 + text.length())).build();
  }

  static Completion failed(String id, String code) {
    return Completion.newBuilder().setRequestId(id).setStatus(CompletionStatus.ERROR).setCreatedAt(0).setCompletedAt(1)
        .setError(new GenerationError(code, "it failed")).build();
  }

  static GenerationRequest request(String id) {
    return GenerationRequest.newBuilder().setRequestId(id).setCreatedAt(0).setPrompt("p")
        .setParams(GenerationParams.newBuilder().build()).build();
  }

  @Test
  void eachPairHasOneOutcome() {
    assertThat(ReplayReport.outcome(ok("a", "x", "stop"), ok("b", "x", "stop"))).isEqualTo("identical");
    assertThat(ReplayReport.outcome(ok("a", "x", "stop"), ok("b", "y", "stop"))).isEqualTo("changed");
    assertThat(ReplayReport.outcome(ok("a", "x", "stop"), ok("b", "x", "length"))).isEqualTo("changed");
    assertThat(ReplayReport.outcome(ok("a", "x", "stop"), failed("b", "model_not_found"))).isEqualTo("error");
    assertThat(ReplayReport.outcome(failed("a", "deadline_exceeded"), ok("b", "x", "stop"))).isEqualTo("error");
    assertThat(ReplayReport.outcome(null, ok("b", "x", "stop"))).isEqualTo("no_old_completion");
    assertThat(ReplayReport.outcome(ok("a", "x", "stop"), null)).isEqualTo("pending");
  }

  @Test
  void theReportCountsAndListsEveryRequestAsJsonOrMarkdown() throws Exception {
    Replay.Result result = new Replay.Result(List.of(
        new Replay.Pair(request("a"), "n-a", ok("a", "same", "stop"), ok("n-a", "same", "stop")),
        new Replay.Pair(request("b"), "n-b", ok("b", "old", "length"), ok("n-b", "newer", "stop")),
        new Replay.Pair(request("c"), "n-c", ok("c", "x", "stop"), failed("n-c", "model_not_found"))), 2, 0, true);

    ReplayReport report = ReplayReport.of(OPTIONS, result);

    assertThat(report.counts()).isEqualTo(Map.of("identical", 1, "changed", 1, "error", 1, "no_old_completion", 0,
        "pending", 0, "old_errors", 0, "new_errors", 1));
    assertThat(report.summary()).isEqualTo("replayed 3 requests: 1 identical, 1 changed, 1 errors, 0 without an old "
        + "completion");
    JsonNode json = new ObjectMapper().readTree(report.json());
    assertThat(json.get("requests").asInt()).isEqualTo(3);
    assertThat(json.get("skipped_replays").asInt()).isEqualTo(2);
    JsonNode changed = json.get("rows").get(1);
    assertThat(changed.get("old_id").asText()).isEqualTo("b");
    assertThat(changed.get("new_id").asText()).isEqualTo("n-b");
    assertThat(changed.get("outcome").asText()).isEqualTo("changed");
    assertThat(changed.get("old").get("chars").asInt()).isEqualTo(3);
    assertThat(changed.get("new").get("chars").asInt()).isEqualTo(5);
    assertThat(changed.get("old").get("finish_reasons").get(0).asText()).isEqualTo("length");
    assertThat(json.get("rows").get(2).get("new").get("error_code").asText()).isEqualTo("model_not_found");
    assertThat(report.markdown())
        .contains("| identical | 1 |", "| changed | 1 |", "| error | 1 |", "| new errors | 1 |")
        .contains("| b | n-b | changed | 3 | 5 | 3 | 5 | length | stop |  |")
        .contains("| c | n-c | error | 1 |  | 1 | 0 | stop |  | new: model_not_found |");
  }

  @Test
  void aReplayIsANewJobThatNamesItsOriginalAndKeepsItsDeadlinesLength() {
    GenerationRequest old = GenerationRequest.newBuilder(request("old")).setCreatedAt(1_000).setDeadline(31_000L)
        .setModel("m1").setMetadata(Map.of("task", "t")).setStreamPartition(3).build();

    GenerationRequest again = Replay.again(old, "new", Instant.ofEpochMilli(100_000), "m2");

    assertThat(again.getRequestId()).isEqualTo("new");
    assertThat(again.getCreatedAt()).isEqualTo(100_000);
    assertThat(again.getDeadline()).isEqualTo(130_000);
    assertThat(again.getModel()).isEqualTo("m2");
    assertThat(again.getMetadata()).isEqualTo(Map.of("task", "t", "replay_of", "old"));
    assertThat(again.getStreamPartition()).isNull();
    assertThat(again.getPrompt()).isEqualTo(old.getPrompt());
    assertThat(Replay.again(old, "new", Instant.ofEpochMilli(100_000), null).getModel()).isEqualTo("m1");
  }
}
