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
