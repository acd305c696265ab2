package io.moeagent.host.generate;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.model.ExpertLayout;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.model.Qwen2MoeModel;
import io.moeagent.host.reference.InMemoryWeights;
import io.moeagent.host.reference.ReferenceQwen2Moe;
import io.moeagent.host.reference.TinyConfigs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {
    private static final ModelConfig CONFIG = TinyConfigs.gqaMixed();
    private static final long[][] PROMPTS = {
        {3, 17, 5, 9, 30, 2, 11, 4, 4}, {8, 40, 1}, {60, 61}, {7, 7, 7, 7, 7}, {33}};
    private static NDManager manager;
    private static InMemoryWeights weights;
    private static Qwen2MoeModel model;

    @BeforeAll
    static void start() {
        manager = NDManager.newBaseManager(Device.cpu());
        weights = InMemoryWeights.random(CONFIG, 7);
        model = Qwen2MoeModel.load(CONFIG, weights, manager, DataType.FLOAT32, ExpertLayout.AUTO);
    }

    @AfterAll
    static void stop() {
        model.close();
        manager.close();
    }

    private static List<GenerationRequest> requests(int maxNew) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < PROMPTS.length; i++) {
            requests.add(new GenerationRequest(i, PROMPTS[i], maxNew));
        }
        return requests;
    }

    /** eos 2 is in the vocabulary of 64, so some requests may stop early; none is an eos here. */
    private static Generator generator(int... eos) {
        return new Generator(model, eos, Map.of("engine", RunInfo.ENGINE));
    }

    @Test
    void batchedGreedyEqualsOneByOne() {
        GenerationStats batchedStats = new GenerationStats();
        List<GenerationResult> batched = generator(63).generate(requests(12), PROMPTS.length,
                SamplingConfig.greedy(1), batchedStats, GenerationProgress.NONE);
        List<GenerationResult> single = generator(63).generate(requests(12), 1, SamplingConfig.greedy(1),
                new GenerationStats(), GenerationProgress.NONE);
        List<GenerationResult> pairs = generator(63).generate(requests(12), 2, SamplingConfig.greedy(1),
                new GenerationStats(), GenerationProgress.NONE);
        assertEquals(PROMPTS.length, batched.size());
        for (int i = 0; i < PROMPTS.length; i++) {
            assertEquals(i, batched.get(i).id());
            assertArrayEquals(single.get(i).generatedIds(), batched.get(i).generatedIds(), "request " + i);
            assertArrayEquals(single.get(i).generatedIds(), pairs.get(i).generatedIds(), "request " + i);
        }
        long prompt = 0;
        long generated = 0;
        long fedBack = 0;
        for (GenerationResult r : batched) {
            prompt += r.promptIds().length;
            generated += r.generatedIds().length;
            fedBack += Math.max(0, r.generatedIds().length - 1); // the last token is never fed back
        }
        assertEquals(prompt, batchedStats.promptTokens());
        assertEquals(generated, batchedStats.generatedTokens());
        assertEquals(prompt + fedBack, batchedStats.tokensForwarded());
    }

    @Test
    void greedyEqualsTheReferenceModel() {
        ReferenceQwen2Moe reference = new ReferenceQwen2Moe(CONFIG, weights.asMap());
        List<GenerationResult> results = generator(63).generate(requests(6), PROMPTS.length,
                SamplingConfig.greedy(1), new GenerationStats(), GenerationProgress.NONE);
        for (int i = 0; i < PROMPTS.length; i++) {
            ReferenceQwen2Moe.Session session = reference.newSession();
            List<ReferenceQwen2Moe.TokenResult> fed = session.feed(PROMPTS[i]);
            long[] expected = new long[6];
            for (int n = 0; n < 6; n++) {
                double[] logits = fed.get(fed.size() - 1).logits;
                int best = 0;
                for (int v = 1; v < logits.length; v++) {
                    best = logits[v] > logits[best] ? v : best;
                }
                expected[n] = best;
                fed = session.feed(best);
            }
            assertArrayEquals(expected, results.get(i).generatedIds(), "request " + i);
        }
    }

    /**
     * Every step names exactly the rows the router sees: all prompt tokens at prefill, then one token per request
     * still running, at the position it holds in its request; step ids count up across calls and batches.
     */
    @Test
    void stepContextsDescribeTheRoutedRows() {
        List<GenerationResult> free = generator(63).generate(requests(8), 5, SamplingConfig.greedy(1),
                new GenerationStats(), GenerationProgress.NONE);
        long eos = free.get(1).generatedIds()[2]; // request 1 (and any other emitting it) stops early
        List<io.moeagent.host.model.StepContext> steps = new ArrayList<>();
        Generator generator = generator((int) eos);
        List<GenerationResult> results = new ArrayList<>();
        for (int call = 0; call < 2; call++) {
            results = generator.generate(requests(8), 3, SamplingConfig.greedy(1), new GenerationStats(),
                    (step, generated, nanos) -> steps.add(step));
        }
        for (int i = 1; i < steps.size(); i++) {
            assertEquals(steps.get(i - 1).stepId + 1, steps.get(i).stepId, "step ids count up");
        }
        assertEquals(0, steps.get(0).stepId);
        List<io.moeagent.host.model.StepContext> lastCall = steps.subList(steps.size() / 2, steps.size());
        java.util.Map<Long, Integer> nextPosition = new java.util.HashMap<>();
        int prefills = 0;
        for (io.moeagent.host.model.StepContext step : lastCall) {
            assertEquals(step.tokens, step.requestIds.length);
            assertEquals(step.tokens, step.positions.length);
            assertTrue(step.tokens > 0);
            if (step.prefill) {
                prefills++;
                for (int i = 0; i < step.tokens; i++) {
                    long request = step.requestIds[i];
                    int expected = nextPosition.getOrDefault(request, 0);
                    assertEquals(expected, step.positions[i], "prompt tokens in order");
                    nextPosition.put(request, expected + 1);
                }
            } else {
                java.util.Set<Long> seen = new java.util.HashSet<>();
                for (int i = 0; i < step.tokens; i++) {
                    long request = step.requestIds[i];
                    assertTrue(seen.add(request), "one row per request in a decode step");
                    assertEquals(nextPosition.get(request).intValue(), step.positions[i]);
                    nextPosition.put(request, step.positions[i] + 1);
                }
            }
        }
        assertEquals(2, prefills, "5 requests in batches of 3");
        for (GenerationResult r : results) {
            // every generated token but the last was fed back at the next position
            assertEquals(r.promptIds().length + r.generatedIds().length - 1, nextPosition.get(r.id()).intValue(),
                    "request " + r.id());
        }
        assertEquals(FinishReason.STOP, results.get(1).finishReason());
        assertEquals(3, results.get(1).generatedIds().length);
    }

    @Test
    void stopsAtEosAndKeepsIt() {
        List<GenerationResult> free = generator(63).generate(requests(10), 5, SamplingConfig.greedy(1),
                new GenerationStats(), GenerationProgress.NONE);
        long eos = free.get(0).generatedIds()[3]; // pretend the 4th token of request 0 ends a sequence
        List<GenerationResult> stopped = generator((int) eos).generate(requests(10), 5, SamplingConfig.greedy(1),
                new GenerationStats(), GenerationProgress.NONE);
        long[] ids = stopped.get(0).generatedIds();
        assertEquals(FinishReason.STOP, stopped.get(0).finishReason());
        assertEquals(eos, ids[ids.length - 1]);
        assertTrue(ids.length <= 4);
        for (GenerationResult r : stopped) {
            assertTrue(r.generatedIds().length <= 10);
            assertEquals(r.finishReason() == FinishReason.STOP, r.generatedIds()[r.generatedIds().length - 1] == eos);
        }
    }

    @Test
    void samplingIsDeterministicPerSeedAndBatchIndependent() {
        SamplingConfig sampling = new SamplingConfig(1.5, 0.95, 99);
        List<GenerationResult> a = generator(63).generate(requests(16), 5, sampling, new GenerationStats(),
                GenerationProgress.NONE);
        List<GenerationResult> b = generator(63).generate(requests(16), 2, sampling, new GenerationStats(),
                GenerationProgress.NONE);
        List<GenerationResult> other = generator(63).generate(requests(16), 5, new SamplingConfig(1.5, 0.95, 100),
                new GenerationStats(), GenerationProgress.NONE);
        List<GenerationResult> greedy = generator(63).generate(requests(16), 5, SamplingConfig.greedy(99),
                new GenerationStats(), GenerationProgress.NONE);
        boolean differsFromOtherSeed = false;
        boolean differsFromGreedy = false;
        for (int i = 0; i < PROMPTS.length; i++) {
            assertArrayEquals(a.get(i).generatedIds(), b.get(i).generatedIds(), "request " + i);
            differsFromOtherSeed |= !java.util.Arrays.equals(a.get(i).generatedIds(), other.get(i).generatedIds());
            differsFromGreedy |= !java.util.Arrays.equals(a.get(i).generatedIds(), greedy.get(i).generatedIds());
        }
        assertTrue(differsFromOtherSeed, "another seed must give other tokens");
        assertTrue(differsFromGreedy, "sampling at temperature 1.5 must differ from greedy");
    }

    @Test
    void longGenerationLeavesNoArraysBehind() {
        Generator generator = generator();
        generator.generate(requests(4), 5, SamplingConfig.greedy(1), new GenerationStats(), GenerationProgress.NONE);
        int before = model.manager().getManagedArrays().size();
        GenerationStats stats = new GenerationStats();
        generator.generate(requests(120), 5, SamplingConfig.greedy(1), stats, GenerationProgress.NONE);
        assertEquals(before, model.manager().getManagedArrays().size(), "arrays leaked across steps");
        assertEquals(PROMPTS.length * 120L, stats.generatedTokens());
    }

    @Test
    void rejectsBadRequests() {
        assertThrows(IllegalArgumentException.class, () -> new GenerationRequest(0, new long[0], 3));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(-1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> generator().generate(requests(1), 0,
                SamplingConfig.greedy(1), new GenerationStats(), GenerationProgress.NONE));
        List<GenerationResult> none = generator().generate(requests(0), 5, SamplingConfig.greedy(1),
                new GenerationStats(), GenerationProgress.NONE);
        assertFalse(none.isEmpty());
        assertEquals(0, none.get(0).generatedIds().length);
        assertNotEquals(null, none.get(0).finishReason());
    }
}
