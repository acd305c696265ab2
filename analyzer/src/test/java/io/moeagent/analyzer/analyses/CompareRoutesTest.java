package io.moeagent.analyzer.analyses;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.Cli;
import io.moeagent.analyzer.RouteFixtures;
import io.moeagent.analyzer.diff.RouteDiff;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A: layer 0 rows {0} {1}, B: {0} {0} (4 experts, top-1). P = (.5, .5, 0, 0), Q = (1, 0, 0, 0), M = (.75, .25):
 * JSD = 1/2 (.5 log2(.5/.75) + .5 log2(.5/.25)) + 1/2 log2(1/.75) = 0.311278 bits. Expert 0 gains 50 points,
 * expert 1 loses 50. A also has layer 1 ({2} {3}), which B lacks.
 */
class CompareRoutesTest {
    static final double JSD = 0.5 * (0.5 * log2(0.5 / 0.75) + 0.5 * log2(2)) + 0.5 * log2(1 / 0.75);

    @TempDir
    static Path tmp;

    static Path a;
    static Path b;

    static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    @BeforeAll
    static void write() {
        a = tmp.resolve("a");
        b = tmp.resolve("b");
        try (RouteFixtures f = RouteFixtures.open(a, 4, 1, new int[] {0, 1})) {
            f.step(true, new long[] {0, 0}, new int[] {0, 1}, null, new int[] {0, 1}, new int[][] {{0, 1}, {2, 3}});
        }
        try (RouteFixtures f = RouteFixtures.open(b, 4, 1, new int[] {0})) {
            f.step(true, new long[] {0, 0}, new int[] {0, 1}, null, new int[] {0}, new int[][] {{0, 0}});
        }
    }

    @Test
    void divergenceByHand() {
        assertEquals(0.311278124459, JSD, 1e-9);
        assertEquals(JSD, RouteDiff.jsd(new long[] {1, 1, 0, 0}, new long[] {2, 0, 0, 0}), 1e-12);
        assertEquals(0, RouteDiff.jsd(new long[] {3, 1}, new long[] {6, 2}), 1e-15);
        assertEquals(1, RouteDiff.jsd(new long[] {1, 0}, new long[] {0, 1}), 1e-12);
    }

    @Test
    void commandReportsLayersChangesAndChecks() throws Exception {
        Path json = tmp.resolve("diff.json");
        Cli.Result r = Cli.run("compare-routes", a.toString(), b.toString(), "--json", json.toString(), "--top", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layer 0 expert 0: 50.00% -> 100.00% (+50.00 points)"), r.out());
        assertTrue(r.out().contains("layers only in A: [1], only in B: []"), r.out());
        JsonNode j = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(1, j.path("layers").size());
        assertEquals(JSD, j.path("layers").get(0).path("jsd_bits").asDouble(), 1e-12);
        assertEquals(1, j.path("largest_share_changes").get(1).path("expert").asInt());
        assertEquals(-0.5, j.path("largest_share_changes").get(1).path("delta").asDouble(), 1e-12);
        assertEquals(1, Cli.run("compare-routes", a.toString(), b.toString(), "--max-jsd", "0.3").code());
        Cli.Result ok = Cli.run("compare-routes", a.toString(), b.toString(), "--max-jsd", "0.32");
        assertEquals(0, ok.code());
        assertTrue(ok.out().contains("ok: largest layer divergence 0.311278 bits <= --max-jsd 0.32"), ok.out());
    }

    @Test
    void badInputExitsTwo() {
        Path c = tmp.resolve("c");
        try (RouteFixtures f = RouteFixtures.open(c, 8, 1, new int[] {0})) {
            f.step(true, new long[] {0}, new int[] {0}, null, new int[] {0}, new int[][] {{5}});
        }
        Cli.Result r = Cli.run("compare-routes", a.toString(), c.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has 4 experts") && r.err().contains("has 8"), r.err());
        assertEquals(2, Cli.run("compare-routes", a.toString()).code());
        assertEquals(2, Cli.run("compare-routes", a.toString(), tmp.resolve("nope.jsonl").toString()).code());
    }
}
