package io.moeagent.analyzer.fleet;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.analyzer.Cli;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.TestQueues;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** queue -> Parquet -> DuckDB against the JSONL export of the same queue, and every way the export can fail. */
class ParquetExportTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /**
     * A schema-2 run as the agent writes it: a prefill step then decode steps, token ids per row, weights with
     * awkward floats. Step ids and request ids start at 0 in every run, so two runs clash on both.
     */
    static void writeRun(Path dir, long runId, String host, int requests, int prompt, int newTokens, long seed) {
        Random rnd = new Random(seed);
        int experts = 60;
        int k = 4;
        int[] layers = {0, 1, 2};
        MetaRecord meta = TestQueues.meta(RouteFormat.SCHEMA_VERSION, experts, k, layers).withRun(runId, host);
        try (ChronicleQueue q = TestQueues.open(dir); ExcerptAppender a = q.createAppender()) {
            RouteRecordWriter w = new RouteRecordWriter(a);
            w.writeMeta(meta);
            for (int s = 0; s < newTokens; s++) {
                boolean prefill = s == 0;
                int per = prefill ? prompt : 1;
                int tokens = requests * per;
                long[] req = new long[tokens];
                int[] pos = new int[tokens];
                int[] tok = new int[tokens];
                for (int r = 0, i = 0; r < requests; r++) {
                    for (int t = 0; t < per; t++, i++) {
                        req[i] = r;
                        pos[i] = prefill ? t : prompt + s - 1;
                        tok[i] = rnd.nextInt(151_000);
                    }
                }
                w.writeStep(runId, s, prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE, tokens, req, pos,
                        tok, null);
                for (int layer : layers) {
                    int[] ids = new int[tokens * k];
                    float[] wt = new float[tokens * k];
                    TestQueues.fillRoutes(rnd, experts, k, tokens, ids, wt);
                    if (s == 1) {
                        wt[0] = Float.MIN_VALUE;
                        wt[1] = 1e-7f;
                    }
                    w.writeRoute(runId, s, layer, tokens, k, ids, wt, false);
                }
            }
        }
    }

    static Connection duck() throws Exception {
        return DriverManager.getConnection("jdbc:duckdb:");
    }

    static String glob(Path dataset, String table) {
        return "'" + dataset.resolve(table).toAbsolutePath() + "/**/*.parquet'";
    }

    @Test
    void parquetHoldsExactlyTheJsonlRowsBitForBit() throws Exception {
        Path q = tmp.resolve("q");
        writeRun(q, 0x1234abcdL, "host-a", 3, 7, 6, 1);
        assertParquetHoldsTheJsonlRows(q, tmp.resolve("ds"));
    }

    @Test
    void aPartitionWhoseFileWasClosedToMakeRoomContinuesInANewFile() throws Exception {
        Path q = tmp.resolve("q");
        writeRun(q, 0x1234abcdL, "host-a", 3, 7, 6, 1);
        Path ds = tmp.resolve("ds");
        System.setProperty("moe.parquet.max-open-files", "1");
        try {
            assertParquetHoldsTheJsonlRows(q, ds);
        } finally {
            System.clearProperty("moe.parquet.max-open-files");
        }
        try (Stream<Path> files = Files.walk(ds.resolve("routes"))) {
            List<Path> parquet = files.filter(p -> p.toString().endsWith(".parquet")).toList();
            assertTrue(parquet.size() > 3 * 3, "one file open at a time: a new file at every layer switch " + parquet);
            assertTrue(parquet.stream().anyMatch(p -> p.getFileName().toString().equals("data_5.parquet")),
                    parquet.toString());
        }
    }

    /** Exports {@code q} to JSONL and to the Parquet dataset {@code ds}; DuckDB's rows must be the JSONL's. */
    void assertParquetHoldsTheJsonlRows(Path q, Path ds) throws Exception {
        Path jsonl = tmp.resolve("routes.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", jsonl.toString()).code());
        Cli.Result r = Cli.run("export", "--format", "parquet", "--queue", q.toString(), "--out", ds.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("exported " + (3 * 7 + 3 * 5) * 3 + " route rows of 1 run"), r.out());

        List<String> expected = new ArrayList<>();
        List<String> lines = Files.readAllLines(jsonl);
        for (String line : lines.subList(1, lines.size())) {
            JsonNode n = JSON.readTree(line);
            StringBuilder sb = new StringBuilder();
            sb.append(n.get("req_id").asLong()).append('|').append(n.get("token_idx").asInt()).append('|')
                    .append(n.get("layer").asInt()).append('|').append(n.get("phase").asText()).append('|');
            for (JsonNode id : n.get("topk_ids")) {
                sb.append(id.asInt()).append(',');
            }
            sb.append('|');
            for (JsonNode w : n.get("topk_weights")) {
                sb.append(Integer.toHexString(Float.floatToRawIntBits(w.floatValue()))).append(',');
            }
            expected.add(sb.toString());
        }
        List<String> actual = new ArrayList<>();
        try (Connection c = duck(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT req_id, token_idx, layer, phase, topk_ids, topk_weights, run_id,"
                     + " host, pid, step_id, token_id FROM read_parquet(" + glob(ds, "routes") + ")")) {
            while (rs.next()) {
                StringBuilder sb = new StringBuilder();
                sb.append(rs.getLong(1)).append('|').append(rs.getInt(2)).append('|').append(rs.getInt(3)).append('|')
                        .append(rs.getString(4)).append('|');
                for (Object id : (Object[]) ((Array) rs.getObject(5)).getArray()) {
                    sb.append(((Number) id).intValue()).append(',');
                }
                sb.append('|');
                for (Object w : (Object[]) ((Array) rs.getObject(6)).getArray()) {
                    sb.append(Integer.toHexString(Float.floatToRawIntBits((Float) w))).append(',');
                }
                actual.add(sb.toString());
                assertEquals("000000001234abcd", rs.getString(7));
                assertEquals("host-a", rs.getString(8));
                assertEquals(4242L, rs.getLong(9));
                assertTrue(rs.getInt(11) >= 0 && !rs.wasNull(), "token ids survive");
            }
        }
        // the dataset is partitioned by layer, so compare as multisets after a stable sort
        assertEquals(expected.size(), actual.size());
        assertEquals(expected.stream().sorted().toList(), actual.stream().sorted().toList());
    }

    @Test
    void partitioningAndMetaSurvive() throws Exception {
        Path q = tmp.resolve("q");
        writeRun(q, 0xfeedL, "host-a", 2, 3, 3, 2);
        Path ds = tmp.resolve("ds");
        assertEquals(0, Cli.run("export", "--format", "parquet", "--queue", q.toString(), "--out", ds.toString()).code());
        for (int layer = 0; layer < 3; layer++) {
            Path dir = ds.resolve("routes/run_id=000000000000feed/layer=" + layer);
            assertTrue(Files.isDirectory(dir), dir.toString());
        }
        assertTrue(Files.isRegularFile(ds.resolve("meta/run_id=000000000000feed/meta.parquet")));
        assertTrue(Files.isRegularFile(ds.resolve("steps/run_id=000000000000feed/steps.parquet")));
        try (Connection c = duck(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT DISTINCT decode(value) FROM parquet_kv_metadata("
                    + glob(ds, "routes") + ") WHERE decode(key) = 'moe_meta'")) {
                assertTrue(rs.next());
                JsonNode meta = JSON.readTree(rs.getString(1));
                assertEquals("meta", meta.get("type").asText());
                assertEquals(60, meta.get("num_experts").asInt());
                assertEquals("synthetic:tiny", meta.get("model_id").asText());
                assertFalse(rs.next(), "one meta for one run");
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*), any_value(top_k), any_value(host) FROM read_parquet("
                    + glob(ds, "meta") + ")")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
                assertEquals(4, rs.getInt(2));
                assertEquals("host-a", rs.getString(3));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*), sum(tokens) FROM read_parquet(" + glob(ds, "steps")
                    + ")")) {
                assertTrue(rs.next());
                assertEquals(3, rs.getInt(1));
                assertEquals(2 * 3 + 2 + 2, rs.getInt(2));
            }
        }
    }

    @Test
    void clashingStepAndRequestIdsStayApartByRun() throws Exception {
        Path qa = tmp.resolve("a");
        Path qb = tmp.resolve("b");
        writeRun(qa, 0xaL, "host-a", 2, 4, 3, 3);
        writeRun(qb, 0xbL, "host-b", 5, 2, 4, 4);
        Path ds = tmp.resolve("ds");
        Cli.Result r = Cli.run("export", "--format", "parquet", "--queue", qa.toString(), "--queue", qb.toString(),
                "--out", ds.toString());
        assertEquals(0, r.code(), r.err());
        try (Connection c = duck(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT run_id, host, source, count(*), count(DISTINCT req_id),"
                     + " max(step_id) FROM read_parquet(" + glob(ds, "routes") + ") GROUP BY ALL ORDER BY run_id")) {
            assertTrue(rs.next());
            assertEquals("000000000000000a", rs.getString(1));
            assertEquals("host-a", rs.getString(2));
            assertEquals("a", rs.getString(3));
            assertEquals((2 * 4 + 2 * 2) * 3, rs.getLong(4));
            assertEquals(2, rs.getLong(5));
            assertEquals(2, rs.getLong(6));
            assertTrue(rs.next());
            assertEquals("000000000000000b", rs.getString(1));
            assertEquals((5 * 2 + 5 * 3) * 3, rs.getLong(4));
            assertEquals(5, rs.getLong(5));
            assertEquals(3, rs.getLong(6));
            assertFalse(rs.next());
        }
        // a second export of a run already in the dataset is refused and changes nothing
        Cli.Result again = Cli.run("export", "--format", "parquet", "--queue", qa.toString(), "--out", ds.toString());
        assertOneLine(again, "run 000000000000000a is already in the dataset");
        try (Stream<Path> files = Files.walk(ds)) {
            assertEquals(0, files.filter(p -> p.getFileName().toString().startsWith(".moe-export-")).count());
        }
    }

    @Test
    void anEmptyQueueWritesNothing() {
        Path q = tmp.resolve("q");
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            new RouteRecordWriter(a).writeMeta(TestQueues.meta(RouteFormat.SCHEMA_VERSION, 8, 2, new int[] {0})
                    .withRun(7, "h"));
        }
        Path ds = tmp.resolve("ds");
        assertOneLine(Cli.run("export", "--format", "parquet", "--queue", q.toString(), "--out", ds.toString()),
                "holds no route rows");
        assertFalse(Files.exists(ds), "no dataset directory is left behind");
    }

    @Test
    void aTruncatedQueueExportsItsCompleteRecords() throws Exception {
        Path q = tmp.resolve("q");
        writeRun(q, 0x77L, "h", 4, 30, 40, 5);
        Path cq4;
        try (Stream<Path> files = Files.list(q)) {
            cq4 = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        // cut the file inside its written records (Chronicle pre-sizes the file, so find where the data ends)
        byte[] all = Files.readAllBytes(cq4);
        int end = all.length;
        while (end > 0 && all[end - 1] == 0) {
            end--;
        }
        try (RandomAccessFile f = new RandomAccessFile(cq4.toFile(), "rw")) {
            f.setLength(end * 2L / 3);
        }
        Path ds = tmp.resolve("ds");
        Cli.Result r = Cli.run("export", "--format", "parquet", "--queue", q.toString(), "--out", ds.toString());
        assertTrue(r.code() == ExitCodes.OK || r.code() == ExitCodes.BAD_INPUT, r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertTrue(r.err().lines().count() <= 1, r.err());
        if (r.code() == ExitCodes.OK) {
            try (Connection c = duck(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM read_parquet(" + glob(ds, "routes") + ")")) {
                assertTrue(rs.next());
                assertTrue(rs.getLong(1) > 0 && rs.getLong(1) < (4 * 30 + 4 * 39) * 3L, "a prefix: " + rs.getLong(1));
            }
        } else {
            assertFalse(Files.exists(ds.resolve("routes")), "no half-written dataset");
        }
    }

    @Test
    void anUnwritableOutputIsOneClearLine() throws Exception {
        Path q = tmp.resolve("q");
        writeRun(q, 0x5L, "h", 1, 2, 2, 6);
        Path file = Files.writeString(tmp.resolve("plain-file"), "keep me");
        assertOneLine(Cli.run("export", "--format", "parquet", "--queue", q.toString(), "--out",
                file.resolve("ds").toString()), "cannot write the Parquet dataset");
        assertOneLine(Cli.run("export", "--format", "parquet", "--queue", q.toString(), "--out", file.toString()),
                "is a file");
        assertEquals("keep me", Files.readString(file));
    }

    /**
     * A disk that fills mid-export: 93 k rows, ~1.5 MB of Parquet, into a real 512 KB tmpfs (needs root; under
     * CI=true it must run).
     */
    @Test
    void aFullDiskMidExportIsOneLineAndLeavesTheDirectoryAsItWas() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 60, 4, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 32, 64, 300, true, 9);
        Path mount = Files.createDirectories(tmp.resolve("tmpfs"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mount.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (!(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0)) {
            String why = "cannot mount a tmpfs (" + out + "): the full-disk export test needs root";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why + ", and under CI=true it must run");
            }
            org.junit.jupiter.api.Assumptions.abort(why);
        }
        try {
            Path mine = Files.createDirectories(mount.resolve("dataset"));
            Files.writeString(mine.resolve("notes.txt"), "keep me");
            Cli.Result r = Cli.run("export", "--format", "parquet", "--queue", q.toString(), "--out", mine.toString());
            assertOneLine(r, "cannot write the Parquet dataset " + mine + " (No space left on device); free space"
                    + " there or choose another directory");
            try (Stream<Path> left = Files.list(mine)) {
                assertEquals(List.of(mine.resolve("notes.txt")), left.toList(), "no hidden folder, nothing new");
            }
            assertEquals("keep me", Files.readString(mine.resolve("notes.txt")));
        } finally {
            new ProcessBuilder("umount", mount.toString()).start().waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    static void assertOneLine(Cli.Result r, String expected) {
        assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertTrue(r.err().contains(expected), r.err());
    }
}
