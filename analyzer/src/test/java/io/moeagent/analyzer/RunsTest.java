package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.format.RouteFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two recording sessions appended into one queue directory are kept apart by their run ids. */
class RunsTest {
    static final long RUN_A = 0x00000000000000aaL;
    static final long RUN_B = 0x7fff0000000000bbL;

    @TempDir
    Path tmp;

    Path twoRuns() {
        Path q = tmp.resolve("q");
        // both runs number their steps from 0 and use request ids 0..2
        TestQueues.writeRunV2(q, RUN_A, 16, 2, new int[] {0, 1}, 3, 5, 4, 1);
        TestQueues.writeRunV2(q, RUN_B, 16, 2, new int[] {0, 1}, 3, 6, 3, 2);
        return q;
    }

    @Test
    void exportWritesTwoRunsAsSourcesOfAMergedFileThatValidates() throws Exception {
        Path q = twoRuns();
        Path out = tmp.resolve("both.jsonl");
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the queue holds 2 runs (00000000000000aa, 7fff0000000000bb)"), r.err());
        assertFalse(r.err().contains("further meta records"), r.err());
        List<String> lines = Files.readAllLines(out);
        JsonNode meta = new ObjectMapper().readTree(lines.get(0));
        assertEquals(2, meta.get("schema_version").asInt());
        assertEquals("00000000000000aa", meta.get("run_id").asText());
        assertEquals(2, meta.get("sources").size());
        assertEquals("7fff0000000000bb", meta.get("sources").get(1).get("source").asText());
        assertEquals("7fff0000000000bb", meta.get("sources").get(1).get("run_id").asText());
        // run A: 3 x (5 + 3) rows per layer; run B: 3 x (6 + 2)
        assertEquals(1 + 2 * 3 * 8 + 2 * 3 * 8, lines.size());
        assertTrue(lines.get(1).contains("\"req_id\":\"00000000000000aa:0\""), lines.get(1));
        assertTrue(lines.get(lines.size() - 1).contains("\"req_id\":\"7fff0000000000bb:2\""), lines.get(lines.size() - 1));
        Cli.Result v = Cli.run("validate", out.toString());
        assertEquals(0, v.code(), v.out() + v.err());
        assertFalse(v.out().contains("token_idx"), v.out());
    }

    @Test
    void runSelectsOneRunAndStatsSayHowManyItPooled() throws Exception {
        Path q = twoRuns();
        Path out = tmp.resolve("b.jsonl");
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--run", RouteFormat.runIdText(RUN_B), "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("runs"), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(1 + 2 * 3 * 8, lines.size());
        assertTrue(lines.get(0).contains("\"run_id\":\"7fff0000000000bb\",\"host\":\"testhost\","
                + "\"expert_order\":\"best_first\""), lines.get(0));
        assertFalse(lines.get(0).contains("sources"), lines.get(0));
        assertTrue(lines.get(1).startsWith("{\"type\":\"route\",\"req_id\":0,"), lines.get(1));
        assertEquals(0, Cli.run("validate", out.toString()).code());

        Cli.Result pooled = Cli.run("stats", "--queue", q.toString());
        assertEquals(0, pooled.code(), pooled.err());
        assertTrue(pooled.err().contains("the queue holds 2 runs; these statistics pool them"), pooled.err());
        assertTrue(pooled.out().contains("96 rows"), pooled.out());
        Cli.Result one = Cli.run("stats", "--queue", q.toString(), "--run", "aa");
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("48 rows"), one.out());
        assertFalse(one.err().contains("runs"), one.err());

        Cli.Result missing = Cli.run("export", "--queue", q.toString(), "--run", "cc", "--out",
                tmp.resolve("x.jsonl").toString());
        BadInputTest.assertOneClearError(missing, "--run cc: no such run");
        assertTrue(missing.err().contains("the queue holds 2 runs: 00000000000000aa, 7fff0000000000bb"),
                missing.err());
        assertFalse(Files.exists(tmp.resolve("x.jsonl")));
        BadInputTest.assertOneClearError(Cli.run("stats", "--queue", q.toString(), "--run", "xyz"), "--run xyz");
    }
}
