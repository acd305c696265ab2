package io.moeagent.analyzer.analyses;

import static org.junit.jupiter.api.Assertions.*;

import io.moeagent.analyzer.stats.AnalysesReport;
import io.moeagent.analyzer.stats.CoActivation;
import io.moeagent.analyzer.stats.ExpertParallelTally;
import io.moeagent.analyzer.stats.LocalityTally;
import io.moeagent.analyzer.stats.PathTally;
import io.moeagent.analyzer.stats.RouteAnalyses;
import io.moeagent.analyzer.stats.TallyLoader;
import io.moeagent.analyzer.stats.VocabularyTally;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every analysis on {@link Fixture}, against values worked out by hand (in the comments). */
class WorkedExampleTest {
    @TempDir
    static Path tmp;

    static TallyLoader.Loaded loaded;
    static AnalysesReport report;

    @BeforeAll
    static void read() {
        Fixture.write(tmp.resolve("q"));
        loaded = TallyLoader.fromQueue(tmp.resolve("q"), null);
        report = new AnalysesReport(loaded.tally(), loaded.analyses(), 2, 10, 2, null);
    }

    /*
     * Layer 0, request 7: (p0 -> p1) first 0 = 0, {0,1} and {0,2} share 0; (p1 -> p2) first 0 vs 1, {0,2} {1,0}
     * share 0; (p2 -> p3) first 1 vs 0, {1,0} {0,3} share 0. Request 9 has one token: no pair. So 3 pairs, 1 with
     * the same first choice, 3 sharing an expert, one shared expert of k = 2 each: mean overlap 0.5.
     * Chance: 1/E = .25; first choices 0 0 1 0 1 -> .6^2 + .4^2 = .52; 1 - C(2,2)/C(4,2) = 5/6; k/E = .5;
     * selections 4 3 2 1 of 5 rows -> (.64 + .36 + .16 + .04) / 2 = .6.
     */
    @Test
    void locality() {
        LocalityTally.Layer l0 = loaded.analyses().locality().layer(0);
        assertEquals(5, l0.rows());
        assertEquals(3, l0.pairs());
        assertEquals(1, l0.sameFirst());
        assertEquals(3, l0.anyOverlap());
        assertEquals(1.0 / 3, l0.firstRepeatRate(), 1e-12);
        assertEquals(1.0, l0.anyOverlapRate(), 1e-12);
        assertEquals(0.5, l0.meanOverlap(), 1e-12);
        assertEquals(0.25, l0.uniformFirst(), 1e-12);
        assertEquals(0.52, l0.marginalFirst(), 1e-12);
        assertEquals(5.0 / 6, l0.uniformAny(), 1e-12);
        assertEquals(0.5, l0.uniformOverlap(), 1e-12);
        assertEquals(0.6, l0.marginalOverlap(), 1e-12);
        // layer 1: firsts 2 2 3 2 3; pairs (2,2) (2,3) (3,2), each set pair shares expert 2
        LocalityTally.Layer l1 = loaded.analyses().locality().layer(1);
        assertEquals(3, l1.pairs());
        assertEquals(1, l1.sameFirst());
        assertEquals(1.0, l1.anyOverlapRate(), 1e-12);
        assertEquals(0.52, l1.marginalFirst(), 1e-12);
        LocalityTally.Layer all = report.localityAll();
        assertEquals(6, all.pairs());
        assertEquals(2, all.sameFirst());
        assertEquals(1.0 / 3, all.firstRepeatRate(), 1e-12);
        assertNull(loaded.analyses().locality().layer(2));
    }

    /*
     * Same token, layer 0 -> 1, first choices: (7,0) 0->2, (7,1) 0->2, (7,2) 1->3, (7,3) 0->2, (9,0) 1->3.
     * F[0][2] = 3, F[1][3] = 2: every first choice has one successor, hit rate 1, H(J|I) = 0; the most common next
     * first choice (2) covers 3/5; H(J) = H(.6, .4) = .970951 bits = MI. Sets: expert 0 at layer 0 in 4 tokens,
     * all with 2 at layer 1.
     */
    @Test
    void paths() {
        List<PathTally.Transition> ts = loaded.analyses().paths().transitions();
        assertEquals(1, ts.size());
        PathTally.Transition t = ts.get(0);
        assertEquals(0, t.from);
        assertEquals(1, t.to);
        assertEquals(5, t.tokens);
        assertEquals(3, t.first[0 * 4 + 2]);
        assertEquals(2, t.first[1 * 4 + 3]);
        assertArrayEquals(new long[] {4, 3, 2, 1}, t.fromSelections);
        assertEquals(4, t.sets[0 * 4 + 2]);
        PathTally.Predictability p = PathTally.predictability(t, 4);
        assertEquals(1.0, p.hitRate(), 1e-12);
        assertEquals(0.6, p.baselineHitRate(), 1e-12);
        assertEquals(0.0, p.conditionalEntropyBits(), 1e-12);
        double h = -(0.6 * Math.log(0.6) + 0.4 * Math.log(0.4)) / Math.log(2);
        assertEquals(h, p.nextEntropyBits(), 1e-12);
        assertEquals(h, p.mutualInformationBits(), 1e-12);
        // every token reached the last layer: no state left to evict
        assertEquals(0, loaded.analyses().paths().evictedStates());
    }

    /*
     * Layer 0 selections 4 3 2 1 over 5 rows; pairs {0,1} 2, {0,2} 1, {0,3} 1, {1,2} 1.
     * P(0|3) = 1/1 (lift 1 / .8), P(0|1) = 2/3, then P = 1/2 ties broken by rows: P(1|0) = 2/4 first.
     */
    @Test
    void coActivation() {
        double[][] m = CoActivation.matrix(loaded.tally().layer(0));
        assertEquals(0.5, m[0][1], 1e-12);
        assertEquals(2.0 / 3, m[1][0], 1e-12);
        assertEquals(0.0, m[3][1], 1e-12);
        assertEquals(1.0, m[2][2], 1e-12);
        List<CoActivation.Pair> top = CoActivation.strongest(loaded.tally().layer(0), 4, 1);
        assertEquals(new CoActivation.Pair(3, 0, 1, 1, 1.0, 1.25), top.get(0));
        assertEquals(1, top.get(1).given());
        assertEquals(0, top.get(1).expert());
        assertEquals(2.0 / 3, top.get(1).probability(), 1e-12);
        assertEquals(0, top.get(2).given());
        assertEquals(1, top.get(2).expert());
        assertEquals(2, top.get(2).count());
        // an expert with fewer rows than the minimum is not ranked as the given one
        assertTrue(CoActivation.strongest(loaded.tally().layer(0), 10, 2).stream().noneMatch(x -> x.given() == 3));
    }

    /*
     * Layer 0 per step: step 0 loads 3 2 1 0 (6 selections), step 1 {0,3}, step 2 {1,2}. Peak: 3 / 1.5 = 2, and
     * 1 / .5 = 2 twice. Capacity ceil(cf * S / E): step 0 cf 1 and 1.25 -> 2 (expert 0 drops 1), cf 1.5 -> 3;
     * steps 1, 2 drop nothing; so 1 / 10 selections, 1 / 10, 0. D = 2 round-robin {0,2} {1,3}: step 0 4 vs 2 ->
     * 4 * 2 / 6 = 4/3, steps 1 and 2 1 vs 1 -> 1; mean 10/9. Balanced from totals 4 3 2 1, two experts a device:
     * 0 -> dev 0, 1 -> dev 1, 2 -> dev 1, 3 -> dev 0; pooled 5 vs 5 = 1, but step 1 ({0,3}) and step 2 ({1,2})
     * land on one device: 2, 2, step 0 3 vs 3 -> 1; mean 5/3. D = 4 is one expert per device: the peak. D = 8 > E.
     */
    @Test
    void expertParallel() {
        List<ExpertParallelTally.Layer> layers = loaded.analyses().expertParallel().layers();
        assertEquals(2, layers.size());
        ExpertParallelTally.Layer l0 = layers.get(0);
        assertEquals(0, l0.layer());
        assertEquals(3, l0.records());
        assertEquals(10, l0.selections());
        assertEquals(2.0, l0.meanPeak(), 1e-12);
        assertEquals(2.0, l0.maxPeak(), 1e-12);
        assertArrayEquals(new double[] {0.1, 0.1, 0.0}, l0.droppedShare(), 1e-12);
        assertEquals(3, l0.sampledRecords());
        assertEquals(2, l0.degrees().size());
        ExpertParallelTally.Degree d2 = l0.degrees().get(0);
        assertEquals(2, d2.devices());
        assertEquals(10.0 / 9, d2.roundRobin().mean(), 1e-12);
        assertEquals(4.0 / 3, d2.roundRobin().max(), 1e-12);
        assertEquals(1.2, d2.roundRobin().pooled(), 1e-12);
        assertArrayEquals(new int[] {0, 1, 1, 0}, d2.balancedPlacement());
        assertEquals(5.0 / 3, d2.balanced().mean(), 1e-12);
        assertEquals(2.0, d2.balanced().max(), 1e-12);
        assertEquals(1.0, d2.balanced().pooled(), 1e-12);
        ExpertParallelTally.Degree d4 = l0.degrees().get(1);
        assertEquals(4, d4.devices());
        assertEquals(2.0, d4.roundRobin().mean(), 1e-12);
        assertEquals(2.0, d4.balanced().mean(), 1e-12);
    }

    /*
     * Rows with token ids: steps 0 and 2 (4 rows) in both layers; step 1's row has none (2 rows).
     * Layer 0, token 10: rows {0,1} {1,0} {1,2} -> expert 1 in 3 of 3 (share 1), expert 0 2/3, expert 2 1/3;
     * tokens 11 (one row) is below min-count 2. Layer 1, token 10: {2,3} {3,2} {3,1} -> expert 3 in 3 of 3.
     */
    @Test
    void vocabulary() {
        VocabularyTally v = loaded.analyses().vocabulary();
        assertEquals(8, v.rowsWithIds());
        assertEquals(2, v.rowsWithoutIds());
        List<VocabularyTally.Layer> layers = v.layers(2, 5);
        assertEquals(2, layers.size());
        VocabularyTally.Layer l0 = layers.get(0);
        assertEquals(4, l0.rows());
        assertEquals(2, l0.distinctTokens());
        assertEquals(1, l0.frequentTokens());
        assertEquals(1.0, l0.meanMaxShare(), 1e-12);
        assertEquals(1, l0.tokensOver90());
        assertEquals(0.5, l0.uniformShare(), 1e-12);
        assertEquals(3, l0.experts().size());
        assertEquals(new VocabularyTally.ExpertTokens(0, List.of(new VocabularyTally.TokenShare(10, 2, 3, 2.0 / 3))),
                l0.experts().get(0));
        assertEquals(new VocabularyTally.TokenShare(10, 3, 3, 1.0), l0.experts().get(1).tokens().get(0));
        assertEquals(new VocabularyTally.TokenShare(10, 3, 3, 1.0), layers.get(1).experts().stream()
                .filter(e -> e.expert() == 3).findFirst().orElseThrow().tokens().get(0));
        // min-count 1: token 11 counts too, its one row {0,2} gives max share 1; mean max share (3 + 1) / 4
        assertEquals(1.0, v.layers(1, 5).get(0).meanMaxShare(), 1e-12);
        assertEquals(2, v.layers(1, 5).get(0).frequentTokens());
    }

    @Test
    void defaultOptionsScoreOnlyDegreesUpToTheExpertCount() {
        assertArrayEquals(new int[] {2, 4}, loaded.analyses().expertParallel().degrees());
        assertArrayEquals(new int[] {2, 4, 8}, RouteAnalyses.Options.DEFAULT.epDegrees());
    }
}
