package io.moeagent.analyzer.fleet;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.Cli;
import io.moeagent.analyzer.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqlCommandTest {
    static final String PER_LAYER = "SELECT layer, count(*) AS n, sum(topk_ids[1]) AS first_ids FROM routes"
            + " GROUP BY layer ORDER BY layer";

    @TempDir
    Path tmp;
    Path queue;
    Path jsonl;
    Path dataset;

    @BeforeEach
    void sources() {
        queue = tmp.resolve("q");
        ParquetExportTest.writeRun(queue, 0xc0ffeeL, "host-a", 3, 5, 4, 9);
        jsonl = tmp.resolve("routes.jsonl");
        assertEquals(0, Cli.run("export", "--queue", queue.toString(), "--out", jsonl.toString()).code());
        dataset = tmp.resolve("ds");
        assertEquals(0, Cli.run("export", "--format", "parquet", "--queue", queue.toString(), "--out",
                dataset.toString()).code());
    }

    @Test
    void theSameQueryGivesTheSameAnswerOnAQueueItsJsonlAndItsParquet() {
        Cli.Result q = Cli.run("sql", "--format", "csv", queue.toString(), PER_LAYER);
        assertEquals(0, q.code(), q.err());
        List<String> lines = q.out().lines().toList();
        assertEquals("layer,n,first_ids", lines.get(0));
        assertEquals(4, lines.size());
        assertTrue(lines.get(1).startsWith("0," + (3 * 5 + 3 * 3) + ","), lines.get(1));
        assertEquals(q.out(), Cli.run("sql", "--format", "csv", jsonl.toString(), PER_LAYER).out());
        assertEquals(q.out(), Cli.run("sql", "--format", "csv", dataset.toString(), PER_LAYER).out());
    }

    @Test
    void tableAndJsonOutputs() throws Exception {
        Cli.Result t = Cli.run("sql", dataset.toString(), "SELECT run_id, count(*) AS rows FROM routes GROUP BY run_id");
        assertEquals(0, t.code(), t.err());
        List<String> lines = t.out().lines().toList();
        assertTrue(lines.get(0).matches("run_id\\s+rows"), lines.get(0));
        assertTrue(lines.get(1).matches("-+  -+"), lines.get(1));
        assertTrue(lines.get(2).matches("0000000000c0ffee\\s+72"), lines.get(2));
        assertEquals("(1 row)", lines.get(3));
        Cli.Result j = Cli.run("sql", "--format", "json", queue.toString(),
                "SELECT req_id, token_idx, layer, topk_ids, topk_weights FROM routes ORDER BY step_id, layer, req_id,"
                        + " token_idx LIMIT 2");
        assertEquals(0, j.code(), j.err());
        JsonNode rows = new ObjectMapper().readTree(j.out());
        assertEquals(2, rows.size());
        assertEquals(4, rows.get(0).get("topk_ids").size());
        assertTrue(rows.get(0).get("topk_weights").get(0).isNumber());
        Cli.Result meta = Cli.run("sql", "--format", "csv", dataset.toString(), "SELECT model_id, top_k FROM meta");
        assertEquals("model_id,top_k\nsynthetic:tiny,4\n", meta.out().replace("\r", ""));
        Cli.Result steps = Cli.run("sql", "--format", "csv", queue.toString(),
                "SELECT phase, count(*) FROM steps GROUP BY phase ORDER BY phase");
        assertEquals("phase,count_star()\ndecode,3\nprefill,1\n", steps.out().replace("\r", ""));
    }

    @Test
    void badSqlAndBadSourcesAreOneClearLine() throws Exception {
        Cli.Result r = Cli.run("sql", queue.toString(), "SELEC layer FROM routes");
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("sql: Parser Error"), r.err());
        Cli.Result missing = Cli.run("sql", queue.toString(), "SELECT nope FROM routes");
        assertEquals(ExitCodes.BAD_INPUT, missing.code());
        assertTrue(missing.err().contains("nope"), missing.err());
        Cli.Result none = Cli.run("sql", tmp.resolve("absent").toString(), "SELECT 1");
        assertEquals(ExitCodes.BAD_INPUT, none.code());
        assertTrue(none.err().contains("does not exist"), none.err());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertTrue(Cli.run("sql", empty.toString(), "SELECT 1").err().contains("neither a route queue"));
    }
}
