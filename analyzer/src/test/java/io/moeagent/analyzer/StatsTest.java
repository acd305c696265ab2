package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.stats.ExpertStats;
import io.moeagent.analyzer.stats.RoutingTally;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.SchemaV1Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Five experts, top-2, four rows {0,1} {0,2} {0,1} {3,0} with weight sums .9 .8 .7 .6. By hand: counts 4 2 1 1 0,
 * N = 8, shares .5 .25 .125 .125 0, H = .5*1 + .25*2 + 2*.125*3 = 1.75 bits, max log2 5 = 2.321928, normalised
 * .753678; mean 1.6, population variance (2.4^2 + .4^2 + .6^2 + .6^2 + 1.6^2)/5 = 1.84, CV sqrt(1.84)/1.6 =
 * .847791; balancedness 1.6/4 = .4; Jain 64/(5*22) = .581818; never selected {4}; pairs {0,1} 2 (half the rows),
 * {0,2} 1, {0,3} 1; mean weight sum .75.
 */
class StatsTest {
    static final int[][] ROWS = {{0, 1}, {0, 2}, {0, 1}, {3, 0}};
    static final float[][] WEIGHTS = {{0.5f, 0.4f}, {0.5f, 0.3f}, {0.4f, 0.3f}, {0.3f, 0.3f}};

    @TempDir
    Path tmp;

    static void check(ExpertStats s) {
        assertArrayEquals(new long[] {4, 2, 1, 1, 0}, s.counts());
        assertEquals(4, s.rows());
        assertEquals(8, s.selections());
        assertEquals(0.25, s.share(1), 1e-12);
        assertEquals(1.75, s.entropyBits(), 1e-9);
        assertEquals(2.321928094887362, s.maxEntropyBits(), 1e-9);
        assertEquals(1.75 / 2.321928094887362, s.normalizedEntropy(), 1e-9);
        assertEquals(Math.sqrt(1.84) / 1.6, s.coefficientOfVariation(), 1e-9);
        assertEquals(0.4, s.balancedness(), 1e-9);
        assertEquals(64.0 / 110, s.jainIndex(), 1e-9);
        assertArrayEquals(new int[] {4}, s.neverSelected());
        assertEquals(0.75, s.meanTopkWeightSum(), 1e-6);
        assertEquals(0, s.topExperts().get(0).expert());
        assertEquals(0.5, s.topExperts().get(0).share(), 1e-12);
        assertEquals(new ExpertStats.Pair(0, 1, 2, 0.5), s.topPairs().get(0));
        assertEquals(new ExpertStats.Pair(0, 2, 1, 0.25), s.topPairs().get(1));
        assertEquals(new ExpertStats.Pair(0, 3, 1, 0.25), s.topPairs().get(2));
        assertEquals(3, s.topPairs().size());
    }

    @Test
    void figuresMatchTheHandComputedExample() {
        RoutingTally t = new RoutingTally(5);
        for (int i = 0; i < ROWS.length; i++) {
            t.add(3, RoutingTally.Phase.DECODE, ROWS[i], 0, 2, WEIGHTS[i]);
        }
        check(ExpertStats.of(t.layer(3), 5, 5));
        check(ExpertStats.of(t.overall(RoutingTally.Phase.DECODE), 5, 5));
        assertEquals(0, t.overall(RoutingTally.Phase.PREFILL).rows);
    }

    @Test
    void uniformRoutingHasFullEntropyAndJainOne() {
        RoutingTally t = new RoutingTally(4);
        t.add(0, RoutingTally.Phase.PREFILL, new int[] {0, 1}, 0, 2, null);
        t.add(0, RoutingTally.Phase.PREFILL, new int[] {2, 3}, 0, 2, null);
        ExpertStats s = ExpertStats.of(t.overall(), 3, 3);
        assertEquals(2.0, s.entropyBits(), 1e-12);
        assertEquals(1.0, s.normalizedEntropy(), 1e-12);
        assertEquals(0.0, s.coefficientOfVariation(), 1e-12);
        assertEquals(1.0, s.jainIndex(), 1e-12);
        assertEquals(1.0, s.balancedness(), 1e-12);
        assertTrue(Double.isNaN(s.meanTopkWeightSum()));
    }

    @Test
    void outOfRangeIdsAreCountedAsInvalidNotTallied() {
        RoutingTally t = new RoutingTally(4);
        t.add(0, RoutingTally.Phase.PREFILL, new int[] {0, 9}, 0, 2, null);
        assertEquals(1, t.invalidRows());
        assertEquals(0, t.overall().rows);
    }

    private Path writeExampleQueue() {
        Path q = tmp.resolve("q");
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            SchemaV1Writer.writeMeta(a, TestQueues.meta(RouteFormat.SCHEMA_V1, 5, 2, new int[] {3}));
            SchemaV1Writer.writeStep(a, 1, true, new long[] {0, 0, 1}, new int[] {0, 1, 0}, 3);
            SchemaV1Writer.writeRoute(a, 1, 3, 3, 2, new int[] {0, 1, 0, 2, 0, 1},
                    new float[] {0.5f, 0.4f, 0.5f, 0.3f, 0.4f, 0.3f});
            SchemaV1Writer.writeStep(a, 2, false, new long[] {0}, new int[] {2}, 1);
            SchemaV1Writer.writeRoute(a, 2, 3, 1, 2, new int[] {3, 0}, new float[] {0.3f, 0.3f});
        }
        return q;
    }

    @Test
    void statsJsonFromTheQueueAndFromItsExportAgreeWithTheHandComputedFigures() throws Exception {
        Path q = writeExampleQueue();
        Path fromQueue = tmp.resolve("q.json");
        Cli.Result r = Cli.run("stats", "--queue", q.toString(), "--json", fromQueue.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("== prefill: 3 rows"), r.out());
        assertTrue(r.out().contains("== decode: 1 rows"), r.out());
        assertTrue(r.out().contains("0+1 2 (50.00%)"), r.out());
        Path export = tmp.resolve("routes.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", export.toString()).code());
        Path fromJsonl = tmp.resolve("j.json");
        assertEquals(0, Cli.run("stats", export.toString(), "--json", fromJsonl.toString()).code());

        ObjectMapper m = new ObjectMapper();
        JsonNode a = m.readTree(fromQueue.toFile());
        JsonNode b = m.readTree(fromJsonl.toFile());
        assertEquals(a.get("phases"), b.get("phases"));
        JsonNode all = a.at("/phases/all/overall");
        assertEquals(1.75, all.get("entropy_bits").asDouble(), 1e-9);
        assertEquals(Math.sqrt(1.84) / 1.6, all.get("coefficient_of_variation").asDouble(), 1e-9);
        assertEquals(64.0 / 110, all.get("jain_index").asDouble(), 1e-9);
        assertEquals(0.4, all.get("balancedness").asDouble(), 1e-9);
        assertEquals("[4]", all.get("never_selected").toString());
        assertEquals("[0,1]", all.at("/top_pairs/0/experts").toString());
        assertEquals(2, all.at("/top_pairs/0/count").asInt());
        assertEquals(0.75, all.get("mean_topk_weight_sum").asDouble(), 1e-6);
        assertEquals(3, a.at("/phases/prefill/overall/rows").asInt());
        assertEquals(3, a.at("/phases/all/layers/0/layer").asInt());
    }

    @Test
    void layerOptionAddsThePerExpertTable() throws Exception {
        Path q = writeExampleQueue();
        Cli.Result r = Cli.run("stats", "--queue", q.toString(), "--layer", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layer 3, all phases, per expert"), r.out());
        Cli.Result missing = Cli.run("stats", "--queue", q.toString(), "--layer", "7");
        assertEquals(ExitCodes.BAD_INPUT, missing.code());
        assertTrue(missing.err().contains("no routes of that layer"), missing.err());
    }

    @Test
    void statsOfAnExportEqualItsQueueOnALargerRun() throws Exception {
        Path q = tmp.resolve("big");
        TestQueues.writeRun(q, 60, 4, new int[] {0, 1, 2, 3}, 5, 30, 20, true, 42);
        Path export = tmp.resolve("big.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", export.toString()).code());
        Path a = tmp.resolve("a.json");
        Path b = tmp.resolve("b.json");
        assertEquals(0, Cli.run("stats", "--queue", q.toString(), "--json", a.toString()).code());
        assertEquals(0, Cli.run("stats", export.toString(), "--json", b.toString()).code());
        ObjectMapper m = new ObjectMapper();
        assertEquals(m.readTree(a.toFile()).get("phases"), m.readTree(b.toFile()).get("phases"));
        assertEquals(5 * (30 + 19) * 4, m.readTree(a.toFile()).at("/phases/all/overall/rows").asInt());
        assertTrue(Files.size(a) > 1000);
    }
}
