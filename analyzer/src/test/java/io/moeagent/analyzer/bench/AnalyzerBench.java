package io.moeagent.analyzer.bench;

import io.moeagent.analyzer.Cli;
import io.moeagent.analyzer.TestQueues;
import io.moeagent.analyzer.stats.TallyLoader;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.SchemaV1Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;

/**
 * Throughput of export and stats on a Qwen1.5-MoE-shaped queue (60 experts, top-4, 24 layers, batch 25 decode
 * steps after a prefill of 25 x 96 tokens). Run by bench/bench.sh; not a unit test. Prints rows/s, where a row
 * is one token in one layer (= one exported JSONL line), and queue route records/s.
 */
public final class AnalyzerBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/analyzer-bench");
        int decodeSteps = args.length > 1 ? Integer.parseInt(args[1]) : 4000;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path queue = dir.resolve("queue");
        long[] counts = writeQueue(queue, decodeSteps);
        long rows = counts[0];
        long records = counts[1];
        System.out.printf(Locale.ROOT, "queue: %,d route records, %,d rows (token x layer), %,d bytes%n", records,
                rows, size(queue));
        Path out = dir.resolve("routes.jsonl");
        double[] export = time(reps, () -> check(Cli.run("export", "--queue", queue.toString(), "--out",
                out.toString())));
        report("export (queue -> JSONL file)", export, rows, records);
        System.out.printf(Locale.ROOT, "  JSONL: %,d bytes%n", Files.size(out));
        int[] rep = {0};
        try (var old = Files.list(dir)) {
            for (Path p : old.filter(p -> p.getFileName().toString().startsWith("parquet-")).toList()) {
                deleteTree(p);
            }
        }
        double[] parquet = time(reps, () -> check(Cli.run("export", "--format", "parquet", "--queue",
                queue.toString(), "--out", dir.resolve("parquet-" + rep[0]++).toString())));
        report("export (queue -> Parquet dataset)", parquet, rows, records);
        Path dataset = dir.resolve("parquet-0");
        System.out.printf(Locale.ROOT, "  Parquet: %,d bytes (1/%.1f of the JSONL)%n", size(dataset),
                (double) Files.size(out) / size(dataset));
        String groupBy = "SELECT layer, count(*) AS n, avg(topk_weights[1]) AS w FROM routes GROUP BY layer";
        double[] sql = time(reps, () -> check(Cli.run("sql", dataset.toString(), groupBy)));
        report("sql GROUP BY layer over the Parquet dataset (DuckDB open + query)", sql, rows, records);
        if (args.length > 3 && args[3].equals("fleet")) {
            return;
        }
        double[] stats = time(reps, () -> TallyLoader.fromQueue(queue, null));
        report("stats tally (queue)", stats, rows, records);
        double[] statsCli = time(reps, () -> check(Cli.run("stats", "--queue", queue.toString())));
        report("stats command (queue, incl. table)", statsCli, rows, records);
        double[] statsJsonl = time(Math.min(reps, 3), () -> TallyLoader.fromJsonl(out, null));
        report("stats tally (JSONL)", statsJsonl, rows, records);
        double[] validate = time(Math.min(reps, 2), () -> check(Cli.run("validate", out.toString())));
        report("validate (JSONL)", validate, rows, records);
    }

    interface Task {
        Object run() throws Exception;
    }

    static Object check(Cli.Result r) {
        if (r.code() != 0) {
            throw new IllegalStateException(r.err() + r.out());
        }
        return r;
    }

    static double[] time(int reps, Task task) throws Exception {
        task.run();
        double[] seconds = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            task.run();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds;
    }

    static void report(String what, double[] seconds, long rows, long records) {
        double median = seconds[seconds.length / 2];
        double best = seconds[0];
        System.out.printf(Locale.ROOT, "%-36s median %.3f s: %,.0f rows/s, %,.0f records/s (best %,.0f rows/s)%n",
                what, median, rows / median, records / median, rows / best);
    }

    static void deleteTree(Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static long[] writeQueue(Path queue, int decodeSteps) throws Exception {
        deleteTree(queue);
        int experts = 60;
        int k = 4;
        int batch = 25;
        int prompt = 96;
        int layers = 24;
        Random rnd = new Random(1);
        long rows = 0;
        long records = 0;
        int[] layerIds = new int[layers];
        Arrays.setAll(layerIds, i -> i);
        try (ChronicleQueue q = TestQueues.open(queue); ExcerptAppender a = q.createAppender()) {
            SchemaV1Writer.writeMeta(a, TestQueues.meta(RouteFormat.SCHEMA_V1, experts, k, layerIds));
            // a pool of routing tables for the prefill; decode records get fresh ones
            int maxTokens = batch * prompt;
            int[][] ids = new int[8][maxTokens * k];
            float[][] w = new float[8][maxTokens * k];
            for (int i = 0; i < 8; i++) {
                TestQueues.fillRoutes(rnd, experts, k, maxTokens, ids[i], w[i]);
            }
            long[] req = new long[maxTokens];
            int[] pos = new int[maxTokens];
            for (int s = 0; s <= decodeSteps; s++) {
                boolean prefill = s == 0;
                int tokens = prefill ? maxTokens : batch;
                for (int i = 0; i < tokens; i++) {
                    req[i] = prefill ? i / prompt : i;
                    pos[i] = prefill ? i % prompt : prompt + s - 1;
                }
                SchemaV1Writer.writeStep(a, s, prefill, req, pos, tokens);
                for (int layer = 0; layer < layers; layer++) {
                    int t = (s + layer) & 7;
                    if (!prefill) {
                        // fresh routes for every decode record, so that compression meets real entropy
                        TestQueues.fillRoutes(rnd, experts, k, tokens, ids[t], w[t]);
                    }
                    SchemaV1Writer.writeRoute(a, s, layer, tokens, k, ids[t], w[t]);
                    rows += tokens;
                    records++;
                }
            }
        }
        return new long[] {rows, records};
    }

    static long size(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
