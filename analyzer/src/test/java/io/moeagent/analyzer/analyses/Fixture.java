package io.moeagent.analyzer.analyses;

import io.moeagent.analyzer.RouteFixtures;
import java.nio.file.Path;

/**
 * The worked example of the analysis tests: 4 experts, top-2, layers 0 and 1.
 * <pre>
 * step 0 prefill, request 7, positions 0 1 2, token ids 10 11 10
 *   layer 0: {0,1} {0,2} {1,0}     layer 1: {2,3} {2,1} {3,2}
 * step 1 decode, request 7, position 3, no token ids
 *   layer 0: {0,3}                 layer 1: {2,0}
 * step 2 prefill, request 9 (one token), position 0, token id 10
 *   layer 0: {1,2}                 layer 1: {3,1}
 * </pre>
 */
final class Fixture {
    static final int[] LAYERS = {0, 1};

    private Fixture() {
    }

    static void write(Path dir) {
        try (RouteFixtures f = RouteFixtures.open(dir, 4, 2, LAYERS)) {
            f.step(true, new long[] {7, 7, 7}, new int[] {0, 1, 2}, new int[] {10, 11, 10}, LAYERS,
                    new int[][] {{0, 1, 0, 2, 1, 0}, {2, 3, 2, 1, 3, 2}});
            f.step(false, new long[] {7}, new int[] {3}, null, LAYERS, new int[][] {{0, 3}, {2, 0}});
            f.step(true, new long[] {9}, new int[] {0}, new int[] {10}, LAYERS, new int[][] {{1, 2}, {3, 1}});
        }
    }
}
