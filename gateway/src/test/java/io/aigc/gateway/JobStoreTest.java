package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aigc.schemas.Completion;
import io.aigc.schemas.CompletionChoice;
import io.aigc.schemas.CompletionStatus;
import io.aigc.schemas.RequestSpec;
import io.aigc.schemas.GenerationError;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class JobStoreTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final RequestSpec REQUEST = request("Hi");

  private static RequestSpec request(String prompt) {
    return RequestSpec.builder().prompt(prompt).build();
  }

  private static Completion ok(String id, String text) {
    return Completion.newBuilder().setRequestId(id).setStatus(CompletionStatus.OK).setError(null)
        .setModel("m").setCreatedAt(T0.toEpochMilli()).setCompletedAt(T0.plusSeconds(1).toEpochMilli())
        .setChoices(List.of(new CompletionChoice(0, text, "stop", null))).setUsage(null).setTimings(null)
        .setMetadata(Map.of()).build();
  }

  private static Completion failed(String id) {
    return Completion.newBuilder(ok(id, "")).setStatus(CompletionStatus.ERROR).setChoices(List.of())
        .setError(new GenerationError("internal_error", "boom")).build();
  }

  @Test
  void acceptedJobIsQueuedAndHoldsASlotUntilItsCompletion() {
    JobStore store = new JobStore(10, 10);
    assertThat(store.admit("a", REQUEST, T0)).isInstanceOf(JobStore.Accepted.class);
    assertThat(store.find("a")).get().extracting(JobStore.Job::status).isEqualTo(JobStore.Status.QUEUED);
    assertThat(store.inFlight()).isEqualTo(1);

    assertThat(store.complete(ok("a", "text"))).isTrue();
    assertThat(store.find("a")).get().satisfies(job -> {
      assertThat(job.status()).isEqualTo(JobStore.Status.DONE);
      assertThat(job.created()).isEqualTo(T0);
      assertThat(job.completion().getChoices().get(0).getText()).isEqualTo("text");
    });
    assertThat(store.inFlight()).isZero();
  }

  @Test
  void errorCompletionFailsTheJob() {
    JobStore store = new JobStore(10, 10);
    store.admit("a", REQUEST, T0);
    store.complete(failed("a"));
    assertThat(store.find("a")).get().extracting(JobStore.Job::status).isEqualTo(JobStore.Status.FAILED);
  }

  @Test
  void fullWhenEveryInFlightSlotIsTaken() {
    JobStore store = new JobStore(10, 2);
    store.admit("a", REQUEST, T0);
    store.admit("b", REQUEST, T0);
    assertThat(store.admit("c", REQUEST, T0)).isEqualTo(new JobStore.Full(2));
    assertThat(store.find("c")).isEmpty();

    store.complete(ok("a", "x"));
    assertThat(store.admit("c", REQUEST, T0)).isInstanceOf(JobStore.Accepted.class);
  }

  @Test
  void retryOfAKnownJobIsNotAdmittedTwice() {
    JobStore store = new JobStore(10, 1);
    store.admit("a", REQUEST, T0);
    // Even at the in-flight limit: the retry takes no new slot.
    JobStore.Admission retry = store.admit("a", request("Hi"), T0.plusSeconds(5));
    assertThat(retry).isInstanceOf(JobStore.Existing.class);
    assertThat(((JobStore.Existing) retry).job().created()).isEqualTo(T0);
    assertThat(((JobStore.Existing) retry).published()).isNotCompleted();
    store.published("a");
    assertThat(((JobStore.Existing) retry).published()).isCompleted();
    assertThat(store.inFlight()).isEqualTo(1);
  }

  @Test
  void sameIdWithAnotherRequestConflicts() {
    JobStore store = new JobStore(10, 10);
    store.admit("a", REQUEST, T0);
    assertThat(store.admit("a", request("Bye"), T0)).isInstanceOf(JobStore.Conflict.class);
  }

  @Test
  void abandonedJobIsForgottenAndItsWaitingRetriesFail() {
    JobStore store = new JobStore(10, 1);
    store.admit("a", REQUEST, T0);
    JobStore.Existing retry = (JobStore.Existing) store.admit("a", REQUEST, T0);
    store.abandon("a", new IllegalStateException("broker down"));
    assertThat(store.find("a")).isEmpty();
    assertThat(store.inFlight()).isZero();
    assertThatThrownBy(() -> retry.published().toCompletableFuture().join())
        .isInstanceOf(CompletionException.class).hasRootCauseMessage("broker down");
  }

  @Test
  void listenersAreCalledOnceWhenTheCompletionArrives() {
    JobStore store = new JobStore(10, 10);
    store.admit("a", REQUEST, T0);
    List<JobStore.Job> seen = new ArrayList<>();
    store.onCompletion("a", seen::add);
    Runnable cancel = store.onCompletion("a", job -> seen.add(null));
    cancel.run();
    store.complete(ok("a", "x"));
    store.complete(ok("a", "y"));
    assertThat(seen).singleElement().extracting(JobStore.Job::status).isEqualTo(JobStore.Status.DONE);
  }

  @Test
  void listenerOfACompletedJobIsCalledAtOnce() {
    JobStore store = new JobStore(10, 10);
    store.complete(ok("a", "x"));
    List<JobStore.Job> seen = new ArrayList<>();
    store.onCompletion("a", seen::add);
    assertThat(seen).hasSize(1);
  }

  @Test
  void duplicateCompletionKeepsTheFirst() {
    JobStore store = new JobStore(10, 10);
    store.admit("a", REQUEST, T0);
    assertThat(store.complete(ok("a", "first"))).isTrue();
    assertThat(store.complete(ok("a", "second"))).isFalse();
    assertThat(store.complete(failed("a"))).isFalse();
    assertThat(store.find("a")).get()
        .satisfies(job -> assertThat(job.completion().getChoices().get(0).getText()).isEqualTo("first"));
    assertThat(store.inFlight()).isZero();
  }

  @Test
  void completionOfAJobAcceptedElsewhereIsStored() {
    JobStore store = new JobStore(10, 10);
    assertThat(store.complete(ok("elsewhere", "x"))).isTrue();
    assertThat(store.find("elsewhere")).get().satisfies(job -> {
      assertThat(job.status()).isEqualTo(JobStore.Status.DONE);
      assertThat(job.created()).isEqualTo(T0);
    });
    assertThat(store.inFlight()).isZero();
    // A retry with its Idempotency-Key finds it: not republished, and no body to conflict with.
    assertThat(store.admit("elsewhere", REQUEST, T0)).isInstanceOf(JobStore.Existing.class);
  }

  @Test
  void oldestFinishedJobsAreEvictedPastCapacity() {
    JobStore store = new JobStore(3, 1);
    store.admit("pending", REQUEST, T0);
    store.complete(ok("a", "x"));
    store.complete(ok("b", "x"));
    store.complete(ok("c", "x"));
    assertThat(store.size()).isEqualTo(3);
    // The pending job is older but holds a slot: "a" goes instead.
    assertThat(Stream.of("pending", "a", "b", "c").filter(id -> store.find(id).isPresent()))
        .containsExactly("pending", "b", "c");
  }

  @Test
  void staleJobsReleaseTheirSlotsButStayQueued() {
    JobStore store = new JobStore(10, 2);
    store.admit("old", REQUEST, T0);
    store.admit("new", REQUEST, T0.plusSeconds(100));
    store.published("old");
    store.published("new");
    assertThat(store.releaseStale(T0.plusSeconds(50))).isEqualTo(1);
    assertThat(store.inFlight()).isEqualTo(1);
    assertThat(store.find("old")).get().extracting(JobStore.Job::status).isEqualTo(JobStore.Status.QUEUED);
    // Its completion still counts when it turns up, and frees nothing twice.
    store.complete(ok("old", "late"));
    assertThat(store.find("old")).get().extracting(JobStore.Job::status).isEqualTo(JobStore.Status.DONE);
    assertThat(store.inFlight()).isEqualTo(1);
  }

  @Test
  void capacityBelowTheInFlightLimitIsRefused() {
    assertThatThrownBy(() -> new JobStore(1, 2)).isInstanceOf(IllegalArgumentException.class);
  }

  // ---- owners ----

  @Test
  void aJobIsVisibleToItsOwnerOnly() {
    JobStore store = new JobStore(10, 10);
    store.admit("a", REQUEST.ownedBy("alice"), T0);
    assertThat(store.find("a", "alice")).get().extracting(JobStore.Job::owner).isEqualTo("alice");
    assertThat(store.find("a", "bob")).isEmpty();
    // Nor to the anonymous caller of a gateway that would serve without keys.
    assertThat(store.find("a", null)).isEmpty();

    store.admit("anonymous", REQUEST, T0);
    assertThat(store.find("anonymous", null)).isPresent();
    assertThat(store.find("anonymous", "alice")).isEmpty();
  }

  @Test
  void aCompletionReadBackCarriesItsOwnerInItsMetadata() {
    JobStore store = new JobStore(10, 10);
    store.complete(Completion.newBuilder(ok("restarted", "x"))
        .setMetadata(Map.of("api_key_name", "alice", "article", "42")).build());
    assertThat(store.find("restarted", "alice")).isPresent();
    assertThat(store.find("restarted", "bob")).isEmpty();
    store.complete(ok("no-owner", "x"));
    assertThat(store.find("no-owner", "alice")).isEmpty();
  }

  @Test
  void aJobKnownOnlyFromItsCompletionIsAChatWhenTheCompletionOrItsIdSaysSo() {
    JobStore store = new JobStore(10, 10);
    store.complete(Completion.newBuilder(ok("from-python", "x")).setChat(true).build());
    store.complete(ok("chatcmpl-before-v4", "x"));
    store.complete(ok("cmpl-text", "x"));
    assertThat(store.find("from-python", null)).get().extracting(JobStore.Job::chat).isEqualTo(true);
    assertThat(store.find("chatcmpl-before-v4", null)).get().extracting(JobStore.Job::chat).isEqualTo(true);
    assertThat(store.find("cmpl-text", null)).get().extracting(JobStore.Job::chat).isEqualTo(false);
  }

  @Test
  void anotherOwnersJobUnderTheSameIdConflicts() {
    JobStore store = new JobStore(10, 10);
    store.complete(Completion.newBuilder(ok("a", "x")).setMetadata(Map.of("api_key_name", "alice")).build());
    assertThat(store.admit("a", REQUEST.ownedBy("bob"), T0)).isInstanceOf(JobStore.Conflict.class);
    assertThat(store.admit("a", REQUEST.ownedBy("alice"), T0)).isInstanceOf(JobStore.Existing.class);
  }
}
