package io.moeagent.fleet;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Fleet scale" Spark SQL (docs/fleet-scale.sql, verbatim) in Spark's local mode, on the Parquet export
 * of two queues from two "hosts" whose step and request ids clash, against {@code analyzer stats} on their merge.
 */
class SparkFleetIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path ANALYZER = ROOT.resolve("analyzer/target/analyzer.jar");
    static final int EXPERTS = 16;
    static final int K = 2;
    static final int[] LAYERS = {0, 1, 3};

    @TempDir
    Path tmp;

    @Test
    void sparkSqlOnTheParquetDatasetCountsWhatAnalyzerStatsCountsOnTheMerge() throws Exception {
        Path qa = tmp.resolve("host-a");
        Path qb = tmp.resolve("host-b");
        writeRun(qa, 0xa1L, "host-a", 3, 9, 5, 1);
        writeRun(qb, 0xb2L, "host-b", 4, 6, 7, 2);
        Path dataset = tmp.resolve("dataset");
        // each host exports into the shared dataset on its own
        analyzer("export", "--format", "parquet", "--queue", qa.toString(), "--out", dataset.toString());
        analyzer("export", "--format", "parquet", "--queue", qb.toString(), "--out", dataset.toString());
        Path merged = tmp.resolve("merged.jsonl");
        analyzer("merge", "--queue", qa.toString(), "--queue", qb.toString(), "--out", merged.toString());
        Path stats = tmp.resolve("stats.json");
        analyzer("stats", merged.toString(), "--json", stats.toString());
        JsonNode layers = new ObjectMapper().readTree(stats.toFile()).get("phases").get("all").get("layers");

        String script = Files.readString(ROOT.resolve("docs/fleet-scale.sql"));
        String readme = Files.readString(ROOT.resolve("README.md"));
        assertTrue(readme.contains(script.strip()), "README.md shows docs/fleet-scale.sql verbatim");
        List<List<Row>> results = runSpark(script.replace("${DATASET}", dataset.toAbsolutePath().toString()));
        List<Row> counts = results.get(results.size() - 2);
        List<Row> entropy = results.get(results.size() - 1);

        Map<Integer, long[]> spark = new TreeMap<>();
        for (Row r : counts) {
            int layer = ((Number) r.get(0)).intValue();
            spark.computeIfAbsent(layer, l -> new long[EXPERTS])[((Number) r.get(1)).intValue()] =
                    ((Number) r.get(2)).longValue();
        }
        assertEquals(LAYERS.length, layers.size());
        assertEquals(LAYERS.length, spark.size());
        for (JsonNode layer : layers) {
            long[] expected = new long[EXPERTS];
            for (int e = 0; e < EXPERTS; e++) {
                expected[e] = layer.get("counts").get(e).asLong();
            }
            assertArrayEquals(expected, spark.get(layer.get("layer").asInt()), "layer " + layer.get("layer"));
        }
        assertEquals(LAYERS.length, entropy.size());
        for (int i = 0; i < entropy.size(); i++) {
            assertEquals(layers.get(i).get("layer").asInt(), ((Number) entropy.get(i).get(0)).intValue());
            assertEquals(layers.get(i).get("entropy_bits").asDouble(), ((Number) entropy.get(i).get(1)).doubleValue(),
                    1e-9);
        }
    }

    @Test
    void sparkReadsEveryRouteValueTheJsonlExportHas() throws Exception {
        Path q = tmp.resolve("host-c");
        writeRun(q, 0xc3L, "host-c", 3, 7, 6, 3);
        Path dataset = tmp.resolve("dataset");
        analyzer("export", "--format", "parquet", "--queue", q.toString(), "--out", dataset.toString());
        Path jsonl = tmp.resolve("routes.jsonl");
        analyzer("export", "--queue", q.toString(), "--out", jsonl.toString());
        List<String> expected = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(jsonl);
        for (String line : lines.subList(1, lines.size())) {
            JsonNode n = json.readTree(line);
            List<Integer> ids = new ArrayList<>();
            n.get("topk_ids").forEach(id -> ids.add(id.asInt()));
            List<Float> weights = new ArrayList<>();
            n.get("topk_weights").forEach(w -> weights.add(w.floatValue()));
            expected.add(rowText(n.get("req_id").asLong(), n.get("token_idx").asInt(), n.get("layer").asInt(),
                    n.get("phase").asText(), ids, weights));
        }
        List<List<Row>> results = runSpark("CREATE OR REPLACE TEMPORARY VIEW routes USING parquet OPTIONS (path '"
                + dataset.resolve("routes").toAbsolutePath() + "', recursiveFileLookup 'true');"
                + "SELECT req_id, token_idx, layer, phase, topk_ids, topk_weights, host, run_id FROM routes");
        List<String> actual = new ArrayList<>();
        for (Row r : results.get(1)) {
            actual.add(rowText(r.getLong(0), r.getInt(1), r.getInt(2), r.getString(3), r.getList(4), r.getList(5)));
            assertEquals("host-c", r.getString(6));
            assertEquals(RouteFormat.runIdText(0xc3L), r.getString(7));
        }
        assertEquals(expected.size(), actual.size());
        assertEquals(expected.stream().sorted().toList(), actual.stream().sorted().toList(),
                "Spark's Parquet reader gets every row, id and weight bit of the JSONL export");
    }

    static String rowText(long req, int pos, int layer, String phase, List<?> ids, List<?> weights) {
        StringBuilder sb = new StringBuilder().append(req).append('|').append(pos).append('|').append(layer).append('|')
                .append(phase).append('|').append(ids).append('|');
        for (Object w : weights) {
            sb.append(Integer.toHexString(Float.floatToRawIntBits((Float) w))).append(',');
        }
        return sb.toString();
    }

    /** Runs each statement of the script; returns the rows of every statement in order. */
    static List<List<Row>> runSpark(String script) {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("moe-agent-fleet-it")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.session.timeZone", "UTC")
                .getOrCreate();
        try {
            List<List<Row>> out = new ArrayList<>();
            for (String statement : statements(script)) {
                out.add(spark.sql(statement).collectAsList());
            }
            return out;
        } finally {
            spark.stop();
        }
    }

    static List<String> statements(String script) {
        StringBuilder sql = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.strip().startsWith("--")) {
                sql.append(line).append('\n');
            }
        }
        List<String> out = new ArrayList<>();
        for (String s : sql.toString().split(";")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return out;
    }

    static void analyzer(String... args) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(ANALYZER), "build the analyzer first: " + ANALYZER);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", ANALYZER.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "analyzer finished");
        assertEquals(0, p.exitValue(), String.join(" ", args) + ":\n" + out);
    }

    /** A schema-2 run: a prefill step, then decode steps; step ids and request ids start at 0 in every run. */
    static void writeRun(Path dir, long runId, String host, int requests, int prompt, int newTokens, long seed) {
        Random rnd = new Random(seed);
        MetaRecord meta = new MetaRecord(RouteFormat.SCHEMA_VERSION, "test", "synthetic:tiny", "moe-host", "0.1.0",
                "2.7.1", "17", "cpu", "float32", 1234L, 4, EXPERTS, K, LAYERS, "queue=" + dir, 1_700_000_000_000L, 7L,
                new LinkedHashMap<>(), runId, host);
        try (ChronicleQueue q = ChronicleQueue.singleBuilder(dir).build(); ExcerptAppender a = q.createAppender()) {
            RouteRecordWriter w = new RouteRecordWriter(a);
            w.writeMeta(meta);
            for (int s = 0; s < newTokens; s++) {
                boolean prefill = s == 0;
                int per = prefill ? prompt : 1;
                int tokens = requests * per;
                long[] req = new long[tokens];
                int[] pos = new int[tokens];
                for (int r = 0, i = 0; r < requests; r++) {
                    for (int t = 0; t < per; t++, i++) {
                        req[i] = r;
                        pos[i] = prefill ? t : prompt + s - 1;
                    }
                }
                w.writeStep(runId, s, prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE, tokens, req, pos,
                        null, null);
                for (int layer : LAYERS) {
                    int[] ids = new int[tokens * K];
                    float[] wt = new float[tokens * K];
                    for (int t = 0; t < tokens; t++) {
                        int first = (int) (EXPERTS * Math.pow(rnd.nextDouble(), 2));
                        int second = (first + 1 + rnd.nextInt(EXPERTS - 1)) % EXPERTS;
                        ids[t * K] = first;
                        ids[t * K + 1] = second;
                        wt[t * K] = 0.5f + 0.4f * rnd.nextFloat();
                        wt[t * K + 1] = wt[t * K] * rnd.nextFloat();
                    }
                    w.writeRoute(runId, s, layer, tokens, K, ids, wt, false);
                }
            }
        }
    }
}
