package io.aigc.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.engine.GenerationEngineSchedulingTest.Engine;
import io.aigc.model.SamplingParams;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hundreds of requests of random shapes (prompt length, max_tokens, choices) arriving at random steps, some of them
 * cancelled, through a small batch with a tight cache budget and prefill cap, over the fake model with an
 * end-of-sequence token and a short context: every combination of joining, taking over, compacting and leaving that
 * the hand-written tests do not think of. It is seeded and driven from the engine's own thread (requests arrive at
 * step callbacks and as others end), so a failure reproduces.
 */
class RandomWorkloadTest {
  private static final int CONTEXT = 48;
  private static final int ROWS = 5;
  private static final int BUDGET_TOKENS = 150;
  private static final int REQUESTS = 300;

  /** One request of the workload, and what became of it. */
  record Request(int[] prompt, SamplingParams params, CompletableFuture<GenerationOutcome> outcome) {
    boolean couldEverFit() {
      return params.n() * (prompt.length + params.maxTokens()) <= BUDGET_TOKENS && prompt.length < CONTEXT
          && params.n() <= ROWS;
    }
  }

  @ParameterizedTest(name = "position ids: {0}, seed {1}")
  @CsvSource({"true, 1", "false, 1", "true, 2", "false, 2"})
  void randomRequestsJoiningAndLeavingAtRandomStepsGetExactlyTheTokensTheyGetAlone(boolean positionIds, long seed)
      throws Exception {
    ModelSpec spec = FakeDecoderModel.spec(positionIds, CONTEXT, Set.of(3));
    Random random = new Random(seed);
    try (Engine e = new Engine(spec, new EngineSettings(ROWS, BUDGET_TOKENS * spec.kvBytesPerToken(), 16))) {
      List<Request> requests = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        int choices = random.nextInt(6) == 0 ? 2 + random.nextInt(5) : 1; // now and then more than ROWS
        requests.add(new Request(GenerationEngineSchedulingTest.prompt(random.nextInt(1000), 1 + random.nextInt(50)),
            SamplingParams.builder().maxTokens(1 + random.nextInt(50)).temperature(0).n(choices).build(),
            new CompletableFuture<>()));
      }
      Set<Integer> cancelled = ConcurrentHashMap.newKeySet();
      // Engine-thread state: each end of a request sends the next one, so the batch never drains early.
      int[] sent = {0};
      Runnable send = new Runnable() {
        @Override
        public void run() {
          if (sent[0] < REQUESTS) {
            int i = sent[0]++;
            Request r = requests.get(i);
            e.engine.submit(new GenerationTask("r" + i, r.prompt(), r.params(), Clock.systemUTC().instant(), null,
                GenerationListener.onFinished(o -> {
                  r.outcome().complete(o);
                  this.run();
                })));
          }
        }
      };
      e.onStep = () -> {
        for (int k = random.nextInt(3); k > 0; k--) {
          send.run();
        }
        if (random.nextInt(25) == 0 && sent[0] > 0) {
          int victim = random.nextInt(sent[0]);
          cancelled.add(victim);
          e.engine.cancel("r" + victim, true);
        }
      };
      for (int k = 0; k < ROWS; k++) {
        send.run();
      }
      e.engine.start();

      int cancelledInTime = 0;
      for (int i = 0; i < REQUESTS; i++) {
        Request r = requests.get(i);
        GenerationOutcome o = r.outcome().get(10, TimeUnit.SECONDS);
        if (o.failure() == Failure.CANCELLED) {
          // Waiting or running; a cancellation that came after the end changed nothing.
          assertThat(cancelled).contains(i);
          cancelledInTime++;
        } else if (!r.couldEverFit()) {
          assertThat(o.failure()).as("r%d", i).isEqualTo(Failure.DOES_NOT_FIT);
        } else {
          assertThat(o.failure()).as("r%d: %s", i, o.message()).isNull();
          int[] alone = e.alone(r.prompt(), r.params().maxTokens());
          assertThat(o.choices()).hasSize(r.params().n());
          for (GenerationOutcome.Choice c : o.choices()) {
            assertThat(c.tokens()).as("r%d, choice %d", i, c.index()).isEqualTo(alone);
          }
        }
      }
      e.awaitEveryCacheReleased();
      e.stop();
      // The workload did what it is for: full batches, rows taken over and rebuilt, cancellations that landed.
      assertThat(e.maxRows()).isEqualTo(ROWS);
      assertThat(e.copiesWhileDecoding()).hasSizeGreaterThan(REQUESTS / 2);
      assertThat(cancelledInTime).isPositive();
    }
  }
}
