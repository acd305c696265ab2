package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import net.openhft.chronicle.queue.ChronicleQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Queues of engines instrumented by configuration (issue 10): the analyzer never silently drops rows (padding is
 * only what the engine marked; rows of unknown request or position are counted, reported and fail the export),
 * infers an unknown expert count from the data with one line, and says in the JSONL whether rows are best-first.
 */
class UnscopedEngineQueueTest {
    @TempDir
    Path tmp;

    private static MetaRecord meta(int experts, String configuration) {
        return new MetaRecord(RouteFormat.SCHEMA_VERSION, "0.1.0-test", "", "other", "", "", "17", "", "", -1, 2,
                experts, 2, new int[] {0, 1}, configuration, 1_700_000_000_000L, 7L, Map.of(), 0x1234L, "box");
    }

    /** Two steps of two layers; {@code request} is the first step's request id (-1 = unknown or padding). */
    private Path write(MetaRecord meta, long request, boolean weights) {
        Path dir = tmp.resolve("q" + System.nanoTime());
        try (ChronicleQueue q = TestQueues.open(dir)) {
            RouteRecordWriter w = new RouteRecordWriter(q.createAppender());
            w.writeMeta(meta);
            w.writeStep(meta.runId(), 0, RouteFormat.PHASE_PREFILL, 2, new long[] {request, request},
                    new int[] {request < 0 ? -1 : 0, request < 0 ? -1 : 1}, null, null);
            for (int layer = 0; layer < 2; layer++) {
                w.writeRoute(meta.runId(), 0, layer, 2, 2, new int[] {5, 1, 2, 3}, weights ? new float[] {.6f, .3f,
                        .5f, .4f} : null, !weights);
            }
            w.writeStep(meta.runId(), 1, RouteFormat.PHASE_DECODE, 1, new long[] {0}, new int[] {2}, null, null);
            for (int layer = 0; layer < 2; layer++) {
                w.writeRoute(meta.runId(), 1, layer, 1, 2, new int[] {0, 4}, weights ? new float[] {.7f, .2f} : null,
                        !weights);
            }
        }
        return dir;
    }

    @Test
    void rowsOfUnknownRequestAreReportedAndFailTheExportWhilePaddingDoesNot() throws Exception {
        Path unscoped = write(meta(8, "profile=x,pointcut.weights=none,pointcut.step=none"), -1, false);
        Path out = tmp.resolve("a.jsonl");
        Cli.Result r = Cli.run("export", "--queue", unscoped.toString(), "--out", out.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("4 rows with unknown request id or position"), r.err());
        assertTrue(r.out().contains("exported 2 route lines"), r.out());

        Path padded = write(meta(8, "profile=moe-host,pointcut.step=arg1"), -1, true);
        Cli.Result p = Cli.run("export", "--queue", padded.toString(), "--out", tmp.resolve("b.jsonl").toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.err().contains("4 pad rows (marked as padding by the engine"), p.err());
    }

    @Test
    void unknownExpertCountIsInferredWithOneLine() throws Exception {
        Path q = write(meta(-1, "profile=x,pointcut.step=none"), 0, true);
        Path out = tmp.resolve("r.jsonl");
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("inferred 6 from the data"), r.err());
        JsonNode metaLine = new ObjectMapper().readTree(Files.readAllLines(out).get(0));
        assertEquals(6, metaLine.path("num_experts").asInt());
        assertEquals("best_first", metaLine.path("expert_order").asText());

        Cli.Result stats = Cli.run("stats", "--queue", q.toString());
        assertEquals(0, stats.code(), stats.err());
        assertEquals(1, stats.err().lines().filter(l -> l.contains("inferred 6")).count(), stats.err());
    }

    @Test
    void engineOrderIsSaidInTheJsonl() throws Exception {
        Path q = write(meta(8, "profile=x,pointcut.weights=none,pointcut.step=none"), 0, false);
        Path out = tmp.resolve("e.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", out.toString()).code());
        List<String> lines = Files.readAllLines(out);
        assertEquals("engine", new ObjectMapper().readTree(lines.get(0)).path("expert_order").asText());
        assertEquals(1 + 6, lines.size());
    }
}
