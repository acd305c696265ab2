package io.moeagent.analyzer.bench;

import io.moeagent.analyzer.TestQueues;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.stats.RoutingTally;
import io.moeagent.analyzer.stats.StatsReport;
import io.moeagent.analyzer.stats.TallyLoader;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;

/**
 * Throughput of the full routing analysis (load-balance counts plus locality, co-activation, paths, EP load and
 * vocabulary, then the text and JSON report) on a Qwen1.5-MoE-shaped schema-2 queue with token ids (60 experts,
 * top-4, 24 layers, batch 25 decode steps after a prefill of 25 x 96 tokens), single-threaded. Alternates it with
 * a counts-only pass over the same queue (what `stats` did before the analyses) and reports medians and spread.
 * Run by bench/analyses-bench.sh; not a unit test.
 */
public final class AnalysesBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/analyses-bench");
        int decodeSteps = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        Path queue = dir.resolve("queue");
        long rows = writeQueue(queue, decodeSteps);
        System.out.printf(Locale.ROOT, "queue: %,d rows (token x layer), %,d decode steps%n", rows, decodeSteps);
        // warm-up, then alternate the two passes
        countsOnly(queue);
        full(queue);
        double[] base = new double[reps];
        double[] all = new double[reps];
        double[] baseCpu = new double[reps];
        double[] allCpu = new double[reps];
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < reps; i++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            countsOnly(queue);
            long c1 = mx.getCurrentThreadCpuTime();
            long t1 = System.nanoTime();
            full(queue);
            long c2 = mx.getCurrentThreadCpuTime();
            long t2 = System.nanoTime();
            base[i] = (t1 - t0) / 1e9;
            all[i] = (t2 - t1) / 1e9;
            baseCpu[i] = (c1 - c0) / 1e9;
            allCpu[i] = (c2 - c1) / 1e9;
        }
        // on a shared machine the thread's CPU time is the fairer figure; wall time includes waiting for a core
        report("counts only, wall", base, rows);
        report("counts only, thread CPU", baseCpu, rows);
        report("full analysis + report, wall", all, rows);
        report("full analysis + report, CPU", allCpu, rows);
    }

    static void countsOnly(Path queue) {
        try (QueueRoutes routes = QueueRoutes.open(queue)) {
            RoutingTally[] t = new RoutingTally[1];
            routes.readAll(new QueueRoutes.RowVisitor() {
                @Override
                public void onMeta(MetaRecord meta) {
                    t[0] = new RoutingTally(meta.numExperts());
                }

                @Override
                public void onRow(long r, int p, int layer, boolean prefill, int[] ids, int o, int k, float[] w) {
                    t[0].add(layer, prefill ? RoutingTally.Phase.PREFILL : RoutingTally.Phase.DECODE, ids, o, k, w);
                }
            });
        }
    }

    static void full(Path queue) throws Exception {
        TallyLoader.Loaded loaded = TallyLoader.fromQueue(queue, null);
        StatsReport report = new StatsReport(loaded, null, 5, 5, null, null);
        report.printTable(new PrintWriter(OutputStream.nullOutputStream()));
        report.writeJson(OutputStream.nullOutputStream());
    }

    static void report(String what, double[] seconds, long rows) {
        double[] s = seconds.clone();
        Arrays.sort(s);
        double median = s[s.length / 2];
        System.out.printf(Locale.ROOT, "%-32s median %.3f s (min %.3f, max %.3f, %d runs): %,.0f rows/s"
                + " (range %,.0f-%,.0f)%n", what, median, s[0], s[s.length - 1], s.length, rows / median,
                rows / s[s.length - 1], rows / s[0]);
    }

    static long writeQueue(Path queue, int decodeSteps) throws Exception {
        if (Files.exists(queue)) {
            try (var st = Files.walk(queue)) {
                st.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        int experts = 60;
        int k = 4;
        int batch = 25;
        int prompt = 96;
        int layers = 24;
        long run = 0x5eed_0000_0000_0001L;
        Random rnd = new Random(1);
        long rows = 0;
        int[] layerIds = new int[layers];
        Arrays.setAll(layerIds, i -> i);
        try (ChronicleQueue q = TestQueues.open(queue); ExcerptAppender a = q.createAppender()) {
            RouteRecordWriter w = new RouteRecordWriter(a);
            w.writeMeta(TestQueues.meta(RouteFormat.SCHEMA_VERSION, experts, k, layerIds).withRun(run, "bench"));
            int maxTokens = batch * prompt;
            int[][] ids = new int[8][maxTokens * k];
            float[][] wt = new float[8][maxTokens * k];
            for (int i = 0; i < 8; i++) {
                TestQueues.fillRoutes(rnd, experts, k, maxTokens, ids[i], wt[i]);
            }
            long[] req = new long[maxTokens];
            int[] pos = new int[maxTokens];
            int[] tok = new int[maxTokens];
            for (int s = 0; s <= decodeSteps; s++) {
                boolean prefill = s == 0;
                int tokens = prefill ? maxTokens : batch;
                for (int i = 0; i < tokens; i++) {
                    req[i] = prefill ? i / prompt : i;
                    pos[i] = prefill ? i % prompt : prompt + s - 1;
                    // a Zipf-like vocabulary of 5,000 ids
                    tok[i] = (int) (5000 * Math.pow(rnd.nextDouble(), 3));
                }
                w.writeStep(run, s, prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE, tokens, req, pos,
                        tok, null);
                for (int layer = 0; layer < layers; layer++) {
                    int t = (s + layer) & 7;
                    w.writeRoute(run, s, layer, tokens, k, ids[t], wt[t], false);
                    rows += tokens;
                }
            }
        }
        return rows;
    }
}
