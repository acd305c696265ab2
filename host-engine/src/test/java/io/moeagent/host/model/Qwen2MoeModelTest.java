package io.moeagent.host.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.reference.InMemoryWeights;
import io.moeagent.host.reference.ReferenceQwen2Moe;
import io.moeagent.host.reference.TinyConfigs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DJL forward pass (fp32) against the double-precision reference: prefill then KV-cached decode steps. */
class Qwen2MoeModelTest {
    private static NDManager manager;

    @BeforeAll
    static void start() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterAll
    static void stop() {
        manager.close();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("gqaMixed", TinyConfigs.gqaMixed(), ExpertLayout.LOOP),
                Arguments.of("gqaMixed", TinyConfigs.gqaMixed(), ExpertLayout.STACKED),
                Arguments.of("mhaNormalized", TinyConfigs.mhaNormalized(), ExpertLayout.LOOP),
                Arguments.of("mhaNormalized", TinyConfigs.mhaNormalized(), ExpertLayout.STACKED));
    }

    /**
     * Two requests of different lengths, left-padded into one batch; three decode steps in which request 1 stops
     * after the second, so the last step routes request 0 only.
     */
    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void matchesReferenceOverPrefillAndDecode(String name, ModelConfig config, ExpertLayout layout) {
        InMemoryWeights weights = InMemoryWeights.random(config, 42);
        ReferenceQwen2Moe reference = new ReferenceQwen2Moe(config, weights.asMap());
        long[][] prompts = {{3, 17, 5, 9, 30, 2, 11}, {8, 40, 1, 6}};
        long[][] decodeTokens = {{12, 25, 33}, {19, 4, -1}};
        ReferenceQwen2Moe.Session[] sessions = {reference.newSession(), reference.newSession()};
        Map<String, String> runInfo = Map.of("engine", "test");

        try (Qwen2MoeModel model = Qwen2MoeModel.load(config, weights, manager, DataType.FLOAT32, layout);
             KvCache cache = model.newCache(2, 10)) {
            int length = 7;
            int[] firstColumn = {0, 3};
            long[] ids = new long[2 * length];
            int[] positions = new int[2 * length];
            List<Long> routed = new ArrayList<>();
            List<Long> requestIds = new ArrayList<>();
            List<Integer> routedPositions = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                for (int s = 0; s < length; s++) {
                    int p = s - firstColumn[b];
                    ids[b * length + s] = p >= 0 ? prompts[b][p] : 0;
                    positions[b * length + s] = Math.max(p, 0);
                    if (p >= 0) {
                        routed.add((long) (b * length + s));
                        requestIds.add((long) b);
                        routedPositions.add(p);
                    }
                }
            }
            StepContext prefillContext = new StepContext(0, routed.size(),
                    requestIds.stream().mapToLong(Long::longValue).toArray(),
                    routedPositions.stream().mapToInt(Integer::intValue).toArray(),
                    routed.stream().mapToInt(r -> (int) ids[r.intValue()]).toArray(),
                    StepContext.phases(routed.size(), true), runInfo);
            StepOutput prefill = model.forward(new StepInput(2, length, ids, positions, 0, firstColumn,
                    routed.stream().mapToLong(Long::longValue).toArray(), prefillContext), cache, true);
            List<List<ReferenceQwen2Moe.TokenResult>> expected = List.of(
                    sessions[0].feed(prompts[0]), sessions[1].feed(prompts[1]));
            for (int b = 0; b < 2; b++) {
                List<ReferenceQwen2Moe.TokenResult> tokens = expected.get(b);
                assertClose(tokens.get(tokens.size() - 1).logits, prefill.logits(), b * config.vocabSize(),
                        config.vocabSize(), name + " prefill logits row " + b);
            }
            assertRoutes(prefill, prefillContext, expected, config);

            for (int step = 0; step < 3; step++) {
                List<Long> rows = new ArrayList<>();
                long[] stepIds = new long[2];
                int[] stepPositions = new int[2];
                List<List<ReferenceQwen2Moe.TokenResult>> stepExpected = new ArrayList<>(List.of(List.of(), List.of()));
                for (int b = 0; b < 2; b++) {
                    long token = decodeTokens[b][step];
                    stepPositions[b] = prompts[b].length + step;
                    if (token >= 0) {
                        stepIds[b] = token;
                        rows.add((long) b);
                        stepExpected.set(b, sessions[b].feed(token));
                    }
                }
                long[] routedRows = rows.stream().mapToLong(Long::longValue).toArray();
                int[] routedPos = rows.stream().mapToInt(r -> stepPositions[r.intValue()]).toArray();
                StepContext context = new StepContext(step + 1, routedRows.length, routedRows.clone(),
                        routedPos, rows.stream().mapToInt(r -> (int) stepIds[r.intValue()]).toArray(),
                        StepContext.phases(routedRows.length, false), runInfo);
                StepOutput out = model.forward(new StepInput(2, 1, stepIds, stepPositions, length + step, firstColumn,
                        routedRows, context), cache, true);
                for (long b : routedRows) {
                    assertClose(stepExpected.get((int) b).get(0).logits, out.logits(), (int) b * config.vocabSize(),
                            config.vocabSize(), name + " decode " + step + " logits row " + b);
                }
                assertRoutes(out, context, stepExpected, config);
            }
        }
    }

    /**
     * Continuous batching: steps that mix a prefill chunk of one request, a whole prompt of another and decode tokens
     * of running ones, in cache slots with a gap (slot 1 idle, then reused), with the cache growing between steps.
     * Every sampled row's logits and every routed row's experts equal the reference's for that request and position.
     */
    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void packedMixedStepsMatchReference(String name, ModelConfig config, ExpertLayout layout) {
        InMemoryWeights weights = InMemoryWeights.random(config, 43);
        ReferenceQwen2Moe reference = new ReferenceQwen2Moe(config, weights.asMap());
        long[][] prompts = {{3, 17, 5, 9, 30, 2, 11}, {8, 40, 1, 6}, {5, 6}};
        ReferenceQwen2Moe.Session[] sessions = {reference.newSession(), reference.newSession(), reference.newSession()};
        // per step: {request, slot, first position, tokens...}
        long[][][] steps = {
            {{0, 0, 0, 3, 17, 5, 9}, {1, 2, 0, 8, 40, 1, 6}},
            {{0, 0, 4, 30, 2, 11}, {1, 2, 4, 19}},
            {{0, 0, 7, 12}, {2, 1, 0, 5, 6}, {1, 2, 5, 4}},
        };
        try (Qwen2MoeModel model = Qwen2MoeModel.load(config, weights, manager, DataType.FLOAT32, layout);
             KvCache cache = model.newCache(3, 4)) {
            for (int step = 0; step < steps.length; step++) {
                List<Long> ids = new ArrayList<>();
                List<Integer> positions = new ArrayList<>();
                List<Integer> slots = new ArrayList<>();
                List<Long> requests = new ArrayList<>();
                List<Byte> phases = new ArrayList<>();
                List<Integer> sample = new ArrayList<>();
                List<List<ReferenceQwen2Moe.TokenResult>> expected = new ArrayList<>(List.of(List.of(), List.of(),
                        List.of()));
                for (long[] part : steps[step]) {
                    int request = (int) part[0];
                    long[] tokens = java.util.Arrays.copyOfRange(part, 3, part.length);
                    for (int i = 0; i < tokens.length; i++) {
                        int position = (int) part[2] + i;
                        ids.add(tokens[i]);
                        positions.add(position);
                        slots.add((int) part[1]);
                        requests.add((long) request);
                        phases.add(position < prompts[request].length ? StepContext.PREFILL_ROW : StepContext.DECODE_ROW);
                    }
                    expected.set(request, sessions[request].feed(tokens));
                    if (part[2] + tokens.length >= prompts[request].length) {
                        sample.add(ids.size() - 1);
                    }
                }
                int n = ids.size();
                byte[] phaseArray = new byte[n];
                for (int i = 0; i < n; i++) {
                    phaseArray[i] = phases.get(i);
                }
                StepContext context = new StepContext(step, n, requests.stream().mapToLong(Long::longValue).toArray(),
                        positions.stream().mapToInt(Integer::intValue).toArray(),
                        ids.stream().mapToInt(Long::intValue).toArray(), phaseArray, Map.of("engine", "test"));
                PackedStepInput input = new PackedStepInput(ids.stream().mapToLong(Long::longValue).toArray(),
                        context.positions, slots.stream().mapToInt(Integer::intValue).toArray(),
                        sample.stream().mapToInt(Integer::intValue).toArray(), context);
                assertEquals(step == 0, context.prefill, "prefill only when every row is a prompt row");
                cache.ensureLength(input.columns());
                StepOutput out = model.forward(input, cache, true);
                assertEquals(sample.size() * config.vocabSize(), out.logits().length);
                for (int i = 0; i < sample.size(); i++) {
                    int request = (int) context.requestIds[sample.get(i)];
                    List<ReferenceQwen2Moe.TokenResult> fed = expected.get(request);
                    assertClose(fed.get(fed.size() - 1).logits, out.logits(), i * config.vocabSize(),
                            config.vocabSize(), name + " step " + step + " request " + request + " logits");
                }
                assertRoutes(out, context, expected, config);
            }
        }
    }

    /**
     * float16 (the GPU dtype) runs on the CPU too; it must agree with the reference to fp16 accuracy and pick the
     * same experts wherever the reference's choice is not close to a tie.
     */
    @org.junit.jupiter.api.Test
    void float16StaysCloseToTheReference() {
        ModelConfig config = TinyConfigs.gqaMixed();
        InMemoryWeights weights = InMemoryWeights.random(config, 11);
        long[] prompt = {3, 17, 5, 9, 30, 2, 11};
        List<ReferenceQwen2Moe.TokenResult> expected = new ReferenceQwen2Moe(config, weights.asMap()).newSession()
                .feed(prompt);
        try (Qwen2MoeModel model = Qwen2MoeModel.load(config, weights, manager, DataType.FLOAT16, ExpertLayout.LOOP);
             KvCache cache = model.newCache(1, prompt.length)) {
            long[] rows = java.util.stream.LongStream.range(0, prompt.length).toArray();
            int[] positions = java.util.stream.IntStream.range(0, prompt.length).toArray();
            StepContext context = new StepContext(0, prompt.length, new long[prompt.length], positions,
                    java.util.Arrays.stream(prompt).mapToInt(id -> (int) id).toArray(),
                    StepContext.phases(prompt.length, true), Map.of());
            StepOutput out = model.forward(new StepInput(1, prompt.length, prompt, positions, 0, new int[1], rows,
                    context), cache, true);
            double[] reference = expected.get(prompt.length - 1).logits;
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < reference.length; i++) {
                diff += Math.pow(out.logits()[i] - reference[i], 2);
                norm += reference[i] * reference[i];
            }
            assertTrue(Math.sqrt(diff / norm) < 2e-2, "fp16 logits error " + Math.sqrt(diff / norm));
            int k = config.numExpertsPerTok();
            for (int m = 0; m < out.routes().size(); m++) {
                for (int t = 0; t < prompt.length; t++) {
                    ReferenceQwen2Moe.Route route = expected.get(t).routes.get(m);
                    if (route.marginAtK() > 1e-2) {
                        int[] ids = java.util.Arrays.copyOfRange(out.routes().get(m).expertIds, t * k, (t + 1) * k);
                        assertArrayEquals(route.ids, ids, "layer " + route.layer + " token " + t);
                    }
                }
            }
        }
    }

    /** Routed row i of the step must carry the reference route of (requestIds[i], positions[i]). */
    private static void assertRoutes(StepOutput out, StepContext context,
                                     List<List<ReferenceQwen2Moe.TokenResult>> expected, ModelConfig config) {
        int moeLayers = 0;
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            moeLayers += config.isMoeLayer(l) ? 1 : 0;
        }
        assertEquals(moeLayers, out.routes().size(), "one router decision per MoE layer");
        int k = config.numExpertsPerTok();
        for (int m = 0; m < moeLayers; m++) {
            ExpertSelection selection = out.routes().get(m);
            assertEquals(context.tokens, selection.tokens);
            int seen = 0;
            for (int i = 0; i < context.tokens; i++) {
                int request = (int) context.requestIds[i];
                List<ReferenceQwen2Moe.TokenResult> tokens = expected.get(request);
                int firstPosition = tokens.get(0).position;
                ReferenceQwen2Moe.Route route = tokens.get(context.positions[i] - firstPosition).routes.get(m);
                int[] ids = java.util.Arrays.copyOfRange(selection.expertIds, i * k, (i + 1) * k);
                if (route.marginAtK() < 1e-6) {
                    continue; // a documented near-tie: fp32 may pick the other expert
                }
                assertArrayEquals(route.ids, ids, "layer " + route.layer + " request " + request + " position "
                        + context.positions[i]);
                for (int j = 0; j < k; j++) {
                    assertEquals(route.weights[j], selection.weights[i * k + j], 1e-5, "routing weight");
                }
                seen++;
            }
            assertTrue(seen > 0);
        }
    }

    static void assertClose(double[] expected, float[] actual, int offset, int length, String what) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < length; i++) {
            double d = actual[offset + i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
        }
        double relative = Math.sqrt(diff / norm);
        assertTrue(relative < 1e-5, what + ": norm-relative error " + relative);
    }
}
