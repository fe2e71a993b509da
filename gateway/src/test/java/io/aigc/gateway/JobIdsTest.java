package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JobIdsTest {
  @Test
  void randomIdsAreUrlSafeAndDistinct() {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      ids.add(JobIds.random());
    }
    assertThat(ids).hasSize(1000).allMatch(id -> id.matches("cmpl-[A-Za-z0-9_-]{24}"));
  }

  @Test
  void idempotencyKeyGivesTheSameIdEverywhere() {
    // Deterministic across instances and restarts: a pure function of the caller and the key.
    assertThat(JobIds.fromIdempotencyKey("alice", "order-42")).isEqualTo(JobIds.fromIdempotencyKey("alice", "order-42"))
        .isNotEqualTo(JobIds.fromIdempotencyKey("alice", "order-43"))
        .matches("cmpl-[A-Za-z0-9_-]{24}");
    assertThat(JobIds.fromIdempotencyKey(null, "order-42")).isEqualTo(JobIds.fromIdempotencyKey(null, "order-42"));
  }

  @Test
  void callersWhoPickTheSameIdempotencyKeyGetDifferentJobs() {
    assertThat(JobIds.fromIdempotencyKey("alice", "order-42"))
        .isNotEqualTo(JobIds.fromIdempotencyKey("bob", "order-42"))
        .isNotEqualTo(JobIds.fromIdempotencyKey(null, "order-42"));
    // No caller can choose a key that spells another caller's job: the anonymous caller's keys included.
    assertThat(JobIds.fromIdempotencyKey(null, "alice:order-42"))
        .isNotEqualTo(JobIds.fromIdempotencyKey("alice", "order-42"));
  }

  @Test
  void idempotencyKeyMustBeVisibleAscii() {
    assertThat(JobIds.checkIdempotencyKey("a".repeat(255))).hasSize(255);
    for (String bad : new String[] {"", "a".repeat(256), "has space", "caf\u00e9"}) {
      assertThatThrownBy(() -> JobIds.checkIdempotencyKey(bad)).isInstanceOfSatisfying(ApiError.class, e -> {
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.param()).isEqualTo("Idempotency-Key");
        assertThat(e.code()).isEqualTo("invalid_idempotency_key");
      });
    }
  }
}
