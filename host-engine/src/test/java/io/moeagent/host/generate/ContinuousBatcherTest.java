package io.moeagent.host.generate;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.model.ExpertLayout;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.model.Qwen2MoeModel;
import io.moeagent.host.model.StepContext;
import io.moeagent.host.reference.InMemoryWeights;
import io.moeagent.host.reference.TinyConfigs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContinuousBatcherTest {
    private static final ModelConfig CONFIG = TinyConfigs.gqaMixed();
    private static final long[][] PROMPTS = {
        {3, 17, 5, 9, 30, 2, 11, 4, 4}, {8, 40, 1}, {60, 61}, {7, 7, 7, 7, 7}, {33}, {12, 13, 14, 15, 16, 17, 18}};
    private static final int[] MAX_NEW = {12, 7, 12, 3, 10, 9};
    private static NDManager manager;
    private static Qwen2MoeModel model;

    @BeforeAll
    static void start() {
        manager = NDManager.newBaseManager(Device.cpu());
        model = Qwen2MoeModel.load(CONFIG, InMemoryWeights.random(CONFIG, 7), manager, DataType.FLOAT32,
                ExpertLayout.AUTO);
    }

    @AfterAll
    static void stop() {
        model.close();
        manager.close();
    }

    /** What one request received through its listener. */
    private static final class Collected implements ContinuousBatcher.Listener {
        final List<Long> tokens = new CopyOnWriteArrayList<>();
        final CompletableFuture<GenerationResult> done = new CompletableFuture<>();

        @Override
        public void onToken(long tokenId) {
            tokens.add(tokenId);
        }

        @Override
        public void onFinish(GenerationResult result) {
            done.complete(result);
        }

        @Override
        public void onError(RuntimeException error) {
            done.completeExceptionally(error);
        }
    }

    private static List<GenerationResult> alone(int... eos) {
        List<GenerationResult> results = new ArrayList<>();
        for (int i = 0; i < PROMPTS.length; i++) {
            results.addAll(new Generator(model, eos, Map.of()).generate(
                    List.of(new GenerationRequest(i, PROMPTS[i], MAX_NEW[i])), 1, SamplingConfig.greedy(1),
                    new GenerationStats(), GenerationProgress.NONE));
        }
        return results;
    }

    /**
     * Six requests through 3 slots, prefill chunks of 3 and 6 tokens a step: requests wait, join while others decode,
     * leave at once, and their slots are reused. Tokens equal each request run alone through the batch path; every
     * (request, position) is routed exactly once with the right phase and input token; some steps mix phases.
     */
    @Test
    void greedyEqualsAloneAndEveryTokenIsRoutedOnce() throws Exception {
        int eos = 63;
        List<GenerationResult> expected = alone(eos);
        List<StepContext> steps = new CopyOnWriteArrayList<>();
        List<Collected> collected = new ArrayList<>();
        try (ContinuousBatcher batcher = new ContinuousBatcher(model, new int[] {eos}, Map.of(),
                new ContinuousBatcher.Limits(3, 6, 3), (step, generated, nanos) -> steps.add(step))) {
            for (int i = 0; i < PROMPTS.length; i++) {
                Collected c = new Collected();
                collected.add(c);
                batcher.submit(new GenerationRequest(i, PROMPTS[i], MAX_NEW[i]), SamplingConfig.greedy(1), c);
                if (i == 2) { // the rest arrive while the first ones decode
                    c.done.get(60, TimeUnit.SECONDS);
                }
            }
            for (Collected c : collected) {
                c.done.get(60, TimeUnit.SECONDS);
            }
        }
        Map<String, Integer> routed = new HashMap<>();
        boolean mixed = false;
        for (StepContext step : steps) {
            assertTrue(step.tokens <= 6, "token budget");
            boolean anyPrefill = false;
            boolean anyDecode = false;
            for (int i = 0; i < step.tokens; i++) {
                int request = (int) step.requestIds[i];
                int position = step.positions[i];
                long[] prompt = PROMPTS[request];
                long[] generated = expected.get(request).generatedIds();
                boolean prefill = position < prompt.length;
                assertEquals(prefill ? StepContext.PREFILL_ROW : StepContext.DECODE_ROW, step.rowPhases[i]);
                assertEquals(prefill ? prompt[position] : generated[position - prompt.length], step.tokenIds[i],
                        "input token of request " + request + " position " + position);
                routed.merge(request + "@" + position, 1, Integer::sum);
                anyPrefill |= prefill;
                anyDecode |= !prefill;
            }
            assertEquals(!anyDecode, step.prefill);
            mixed |= anyPrefill && anyDecode;
        }
        assertTrue(mixed, "some step holds prefill and decode rows");
        for (int i = 0; i < PROMPTS.length; i++) {
            GenerationResult result = collected.get(i).done.get();
            assertArrayEquals(expected.get(i).generatedIds(), result.generatedIds(), "request " + i);
            assertEquals(expected.get(i).finishReason(), result.finishReason());
            assertEquals(List.of(box(result.generatedIds())), List.of(box(collected.get(i).tokens)),
                    "streamed tokens of request " + i);
            int fed = PROMPTS[i].length + result.generatedIds().length - 1;
            for (int p = 0; p < fed; p++) {
                assertEquals(1, routed.getOrDefault(i + "@" + p, 0), "request " + i + " position " + p);
            }
            assertEquals(null, routed.get(i + "@" + fed), "the last token is never fed back");
        }
    }

    @Test
    void cancelledRequestLeavesAtOnceAndOthersGoOn() throws Exception {
        List<GenerationResult> expected = alone();
        try (ContinuousBatcher batcher = new ContinuousBatcher(model, new int[0], Map.of(),
                new ContinuousBatcher.Limits(2, 16, 16), GenerationProgress.NONE)) {
            Collected cancelled = new Collected();
            ContinuousBatcher.Handle handle = batcher.submit(new GenerationRequest(0, PROMPTS[0], 1000),
                    SamplingConfig.greedy(1), new ContinuousBatcher.Listener() {
                        @Override
                        public void onToken(long tokenId) {
                            cancelled.onToken(tokenId);
                        }

                        @Override
                        public void onFinish(GenerationResult result) {
                            cancelled.onFinish(result);
                        }

                        @Override
                        public void onError(RuntimeException error) {
                            cancelled.onError(error);
                        }
                    });
            Collected other = new Collected();
            batcher.submit(new GenerationRequest(1, PROMPTS[1], MAX_NEW[1]), SamplingConfig.greedy(1), other);
            assertArrayEquals(expected.get(1).generatedIds(), other.done.get(60, TimeUnit.SECONDS).generatedIds());
            handle.cancel();
            Collected next = new Collected();
            batcher.submit(new GenerationRequest(2, PROMPTS[2], MAX_NEW[2]), SamplingConfig.greedy(1), next);
            assertArrayEquals(expected.get(2).generatedIds(), next.done.get(60, TimeUnit.SECONDS).generatedIds());
            int seen = cancelled.tokens.size();
            Thread.sleep(50);
            assertTrue(cancelled.tokens.size() - seen <= 1, "a cancelled request gets no more tokens");
            assertTrue(!cancelled.done.isDone(), "a cancelled request is not finished");
        }
    }

    @Test
    void rejectsAfterClose() {
        ContinuousBatcher batcher = new ContinuousBatcher(model, new int[0], Map.of(),
                new ContinuousBatcher.Limits(1, 8, 8), GenerationProgress.NONE);
        batcher.close();
        assertThrows(IllegalStateException.class, () -> batcher.submit(new GenerationRequest(0, PROMPTS[0], 1),
                SamplingConfig.greedy(1), new Collected()));
    }

    private static List<Long> box(long[] ids) {
        List<Long> list = new ArrayList<>();
        for (long id : ids) {
            list.add(id);
        }
        return list;
    }

    private static List<Long> box(List<Long> ids) {
        return new ArrayList<>(ids);
    }
}
