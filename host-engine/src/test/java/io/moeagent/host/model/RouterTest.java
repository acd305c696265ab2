package io.moeagent.host.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router against a brute-force double-precision softmax and sort. */
class RouterTest {
    private static final int TOKENS = 37;
    private static final int HIDDEN = 16;
    private static final int EXPERTS = 10;
    private static final int K = 3;
    private static NDManager manager;

    @BeforeAll
    static void start() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterAll
    static void stop() {
        manager.close();
    }

    @ParameterizedTest(name = "norm_topk_prob={0}")
    @ValueSource(booleans = {false, true})
    void matchesBruteForce(boolean normTopkProb) {
        Random random = new Random(normTopkProb ? 5 : 6);
        float[] gate = new float[EXPERTS * HIDDEN];
        float[] hidden = new float[TOKENS * HIDDEN];
        for (int i = 0; i < gate.length; i++) {
            gate[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) random.nextGaussian();
        }
        Router router = new Router(3, new Linear(manager.create(gate, new Shape(EXPERTS, HIDDEN)), null), K,
                normTopkProb, DataType.FLOAT32);
        NDArray x = manager.create(hidden, new Shape(TOKENS, HIDDEN));
        StepContext step = new StepContext(0, TOKENS, new long[TOKENS], new int[TOKENS], new int[TOKENS],
                StepContext.phases(TOKENS, true), Map.of());
        ExpertSelection selection = router.selectExperts(x, step);

        assertEquals(TOKENS, selection.tokens);
        assertEquals(K, selection.k);
        assertEquals(new Shape(TOKENS, K), selection.deviceIds.getShape());
        assertEquals(DataType.INT64, selection.deviceIds.getDataType());
        assertArrayEquals(selection.weights, selection.deviceWeights.toFloatArray());
        for (int t = 0; t < TOKENS; t++) {
            double[] p = new double[EXPERTS];
            double sum = 0;
            for (int e = 0; e < EXPERTS; e++) {
                double logit = 0;
                for (int h = 0; h < HIDDEN; h++) {
                    logit += (double) gate[e * HIDDEN + h] * hidden[t * HIDDEN + h];
                }
                p[e] = Math.exp(logit);
                sum += p[e];
            }
            Integer[] order = new Integer[EXPERTS];
            for (int e = 0; e < EXPERTS; e++) {
                p[e] /= sum;
                order[e] = e;
            }
            java.util.Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
            double topSum = 0;
            for (int j = 0; j < K; j++) {
                topSum += p[order[j]];
            }
            double weightSum = 0;
            for (int j = 0; j < K; j++) {
                assertEquals(order[j].intValue(), selection.expertIds[t * K + j], "token " + t + " slot " + j);
                double expected = normTopkProb ? p[order[j]] / topSum : p[order[j]];
                assertEquals(expected, selection.weights[t * K + j], 1e-6, "token " + t + " slot " + j);
                weightSum += selection.weights[t * K + j];
                if (j > 0) {
                    assertTrue(selection.weights[t * K + j] <= selection.weights[t * K + j - 1], "descending");
                }
            }
            if (normTopkProb) {
                assertEquals(1.0, weightSum, 1e-6);
            } else {
                assertTrue(weightSum < 1.0);
            }
        }
    }
}
