package io.moeagent.analyzer.analyses;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.Cli;
import io.moeagent.analyzer.RouteFixtures;
import io.moeagent.analyzer.stats.ExpertParallelTally;
import io.moeagent.analyzer.stats.LocalityTally;
import io.moeagent.analyzer.stats.TallyLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * k = 1, a layer the meta lists but no route record has (layer 1 of 0..2), a request of one token, and no token
 * ids at all. 3 experts.
 * <pre>
 * step 0 prefill: request 1 positions 0 1, request 2 position 0 (its only token)
 *   layer 0: {0} {0} {2}     layer 2: {1} {2} {1}
 * step 1 decode: request 1 position 2
 *   layer 0: {1}             layer 2: {2}
 * </pre>
 */
class EdgeCasesTest {
    static final int[] LAYERS = {0, 2};

    @TempDir
    static Path tmp;

    static Path queue;
    static TallyLoader.Loaded loaded;

    @BeforeAll
    static void write() {
        queue = tmp.resolve("q");
        try (RouteFixtures f = RouteFixtures.open(queue, 3, 1, new int[] {0, 1, 2})) {
            f.step(true, new long[] {1, 1, 2}, new int[] {0, 1, 0}, null, LAYERS,
                    new int[][] {{0, 0, 2}, {1, 2, 1}});
            f.step(false, new long[] {1}, new int[] {2}, null, LAYERS, new int[][] {{1}, {2}});
        }
        loaded = TallyLoader.fromQueue(queue, null);
    }

    /*
     * Layer 0, request 1: 0 -> 0 repeats, 0 -> 1 does not: 1 of 2. With k = 1 sharing an expert is repeating the
     * first choice, and its chance 1 - C(2,1)/C(3,1) = 1/3 = 1/E. Layer 2: 1 -> 2 no, 2 -> 2 yes: 1 of 2.
     * Request 2 (one token) adds no pair. Layer 1 was never recorded: no figures, not zeros.
     */
    @Test
    void localityWithTopOne() {
        LocalityTally.Layer l0 = loaded.analyses().locality().layer(0);
        assertEquals(2, l0.pairs());
        assertEquals(0.5, l0.firstRepeatRate(), 1e-12);
        assertEquals(0.5, l0.anyOverlapRate(), 1e-12);
        assertEquals(0.5, l0.meanOverlap(), 1e-12);
        assertEquals(1.0 / 3, l0.uniformAny(), 1e-12);
        assertEquals(1.0 / 3, l0.uniformFirst(), 1e-12);
        assertEquals(0.5, loaded.analyses().locality().layer(2).firstRepeatRate(), 1e-12);
        assertNull(loaded.analyses().locality().layer(1));
    }

    /* Layer 2's logged predecessor is layer 1, which never came: no transition, and no token state left over. */
    @Test
    void noPathsAcrossAMissingLayer() {
        assertTrue(loaded.analyses().paths().transitions().isEmpty());
        assertEquals(0, loaded.analyses().paths().evictedStates());
    }

    /*
     * Layer 0: step 0 loads 2 0 1 (S = 3, mean 1): peak 2, capacity ceil(cf) = 1 at cf 1 drops 1, 2 at 1.25 and
     * 1.5 drops 0; step 1 {1} (S = 1, mean 1/3): peak 3, nothing dropped. Mean peak 2.5, drops 1 of 4. Only D = 2
     * fits 3 experts: round-robin {0,2} {1}: step 0 3 vs 0 -> 2, step 1 0 vs 1 -> 2. Balanced from totals 2 1 1
     * (two experts a device): 0 -> 0, 1 -> 1, 2 -> 1; step 0 2 vs 1 -> 4/3, step 1 -> 2; mean 5/3; pooled 2 vs 2.
     */
    @Test
    void expertParallel() {
        List<ExpertParallelTally.Layer> ep = loaded.analyses().expertParallel().layers();
        assertEquals(List.of(0, 2), ep.stream().map(ExpertParallelTally.Layer::layer).toList());
        ExpertParallelTally.Layer l0 = ep.get(0);
        assertEquals(2.5, l0.meanPeak(), 1e-12);
        assertEquals(3.0, l0.maxPeak(), 1e-12);
        assertArrayEquals(new double[] {0.25, 0, 0}, l0.droppedShare(), 1e-12);
        assertEquals(1, l0.degrees().size());
        ExpertParallelTally.Degree d = l0.degrees().get(0);
        assertEquals(2.0, d.roundRobin().mean(), 1e-12);
        assertArrayEquals(new int[] {0, 1, 1}, d.balancedPlacement());
        assertEquals(5.0 / 3, d.balanced().mean(), 1e-12);
        assertEquals(1.0, d.balanced().pooled(), 1e-12);
    }

    @Test
    void idsOnlyTopOneAndMissingLayerInTheReport() throws Exception {
        Path json = tmp.resolve("stats.json");
        Cli.Result r = Cli.run("stats", "--queue", queue.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("vocabulary: no token ids recorded"), r.out());
        assertTrue(r.out().contains("co-activation: top-1 routing selects one expert per token; no pairs"), r.out());
        assertTrue(r.out().contains("paths: no token seen in two consecutive logged layers"), r.out());
        assertTrue(r.out().contains("locality: first choice repeats for 50.00% of consecutive tokens"), r.out());
        JsonNode a = new ObjectMapper().readTree(Files.readString(json)).path("analyses");
        assertEquals(0, a.path("vocabulary").path("rows_with_token_ids").asLong(-1));
        assertEquals(8, a.path("vocabulary").path("rows_without_token_ids").asLong());
        assertEquals(0, a.path("vocabulary").path("layers").size());
        assertEquals(2, a.path("locality").path("layers").size());
        assertEquals(0, a.path("coactivation").path("all_layers").path("strongest").size());
        assertEquals(0.5, a.path("locality").path("all_layers").path("first_repeat_rate").asDouble(), 1e-12);
        assertTrue(a.path("expert_parallel").path("layers").get(0).path("per_degree").get(0)
                .path("balanced").path("mean").isNumber());
    }

    @Test
    void badAnalysisOptionsExitTwo() {
        Cli.Result r = Cli.run("stats", "--queue", queue.toString(), "--ep-degrees", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--ep-degrees 0"), r.err());
        Cli.Result f = Cli.run("stats", "--queue", queue.toString(), "--capacity-factors", "-1");
        assertEquals(2, f.code());
        assertFalse(f.err().contains("Exception"), f.err());
    }
}
