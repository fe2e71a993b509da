package io.aigc.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LocalProcessesTest {
  @Test
  void theBannerStartsWithThePlaygroundsAddress() {
    String banner = LocalProcesses.banner("tiny-llama", "127.0.0.1:9092", 8080, Path.of("/repo/.local/api-key"),
        9101, 9102, 9103);
    assertThat(banner.lines().filter(l -> !l.isBlank()).skip(1).findFirst())
        .hasValue("  playground: http://127.0.0.1:8080/ (its API key: /repo/.local/api-key)");
    assertThat(banner).contains("curl -s localhost:8080/v1/completions -H \"Authorization: Bearer $(cat "
        + "/repo/.local/api-key)\" \\\n");
    assertThat(LocalProcesses.banner("m", "k:1", 18080, null, 1, 2, 3))
        .contains("  playground: http://127.0.0.1:18080/\n", "curl -s localhost:18080/v1/completions \\\n");
  }
}
