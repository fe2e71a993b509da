package io.aigc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
  @Test
  void aBarOnATerminalCountsEarlierRunsInDoneButNotInTheRate() {
    Progress progress = new Progress(new PrintStream(new ByteArrayOutputStream()), true, "done", 10, 4, 1);
    progress.completed(true);

    String line = progress.line(System.nanoTime());

    assertThat(line).startsWith("[" + "#".repeat(18) + ".".repeat(12) + "] 6/10 done, 1 failed, ");
    assertThat(line).containsPattern("[0-9.]+/s, ETA ([0-9]+s|[0-9]+m[0-9]{2}s|[0-9]+h[0-9]{2}m)$");
  }

  @Test
  void elsewherePlainLinesAndALastOneAtTheEnd() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Progress progress = new Progress(new PrintStream(out, true, StandardCharsets.UTF_8), false, "done", 2, 0, 0);
    progress.completed(true);
    progress.completed(false);
    progress.finish();

    String last = out.toString(StandardCharsets.UTF_8).lines().reduce((a, b) -> b).orElseThrow();
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("\r").endsWith(last + "\n");
    assertThat(last).startsWith("2/2 done, 1 failed, ").endsWith(", ETA 0s");
    assertThat(Progress.duration(59)).isEqualTo("59s");
    assertThat(Progress.duration(61)).isEqualTo("1m01s");
    assertThat(Progress.duration(3 * 3600 + 120)).isEqualTo("3h02m");
  }
}
