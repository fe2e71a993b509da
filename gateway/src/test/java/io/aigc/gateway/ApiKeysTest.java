package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  private final ApiKeys keys = ApiKeys.parse("AIGC_API_KEYS entry",
      List.of(TestKeys.entry("alice", TestKeys.ALICE), TestKeys.entry("bob", TestKeys.BOB)));

  @Test
  void aKeyIsKnownByItsHashUnderItsName() {
    assertThat(keys.nameOf(TestKeys.ALICE)).hasValue("alice");
    assertThat(keys.nameOf(TestKeys.BOB)).hasValue("bob");
    assertThat(keys.nameOf(TestKeys.ALICE + "x")).isEmpty();
    assertThat(keys.nameOf(TestKeys.ALICE.substring(1))).isEmpty();
    assertThat(keys.nameOf("")).isEmpty();
    assertThat(keys.names()).containsExactlyInAnyOrder("alice", "bob");
  }

  @Test
  void theHashItselfIsNotAKey() {
    String hash = TestKeys.entry("alice", TestKeys.ALICE).substring("alice:".length());
    assertThat(keys.nameOf(hash)).isEmpty();
  }

  @Test
  void upperCaseHexIsTheSameHash() {
    String entry = TestKeys.entry("alice", TestKeys.ALICE);
    ApiKeys upper = ApiKeys.parse("x", List.of("alice:" + entry.substring(6).toUpperCase()));
    assertThat(upper.nameOf(TestKeys.ALICE)).hasValue("alice");
  }

  @Test
  void nothingButNamesInItsDescription() {
    String hash = TestKeys.entry("alice", TestKeys.ALICE).substring("alice:".length());
    assertThat(keys.toString()).contains("alice", "bob").doesNotContain(hash).doesNotContain(TestKeys.ALICE);
  }

  @Test
  void malformedEntriesAreRefusedByPositionAndName() {
    String good = TestKeys.entry("alice", TestKeys.ALICE);
    String hash = good.substring(6);
    assertRefused(List.of(good, "bob:" + hash), "entry 2", "same key");
    assertRefused(List.of(good, TestKeys.entry("alice", TestKeys.BOB)), "entry 2", "'alice' is used twice");
    assertRefused(List.of("bob" + hash), "entry 1", "name:sha256hex");
    assertRefused(List.of(":" + hash), "entry 1", "name");
    assertRefused(List.of("-bob:" + hash), "entry 1", "starting with a letter or digit");
    assertRefused(List.of("b o b:" + hash), "entry 1", "name");
    assertRefused(List.of("bob:" + hash.substring(1)), "entry 1 ('bob')", "64 hex digits");
    assertRefused(List.of("bob:" + hash + "0"), "entry 1 ('bob')", "64 hex digits");
    assertRefused(List.of("bob:" + "g".repeat(64)), "entry 1 ('bob')", "64 hex digits");
    assertRefused(List.of("bob:" + hash + ":extra"), "entry 1 ('bob')", "64 hex digits");
    assertRefused(List.of("n".repeat(65) + ":" + hash), "entry 1", "1 to 64 characters");
  }

  @Test
  void blankAndCommentedEntriesAreSkipped() {
    ApiKeys parsed = ApiKeys.parse("line", List.of("", "  ", "# alice:" + "0".repeat(64),
        TestKeys.entry("bob", TestKeys.BOB)));
    assertThat(parsed.names()).containsExactly("bob");
    assertThat(ApiKeys.parse("line", List.of("# only a comment")).isEmpty()).isTrue();
  }

  private static void assertRefused(List<String> entries, String where, String why) {
    assertThatThrownBy(() -> ApiKeys.parse("AIGC_API_KEYS entry", entries))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AIGC_API_KEYS " + where).hasMessageContaining(why);
  }
}
