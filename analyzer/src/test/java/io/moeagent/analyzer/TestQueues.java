package io.moeagent.analyzer;

import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import io.moeagent.format.SchemaV1Writer;
import io.moeagent.format.StatsRecord;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;

/** Queues written with the real record writer, the way the agent writes them (meta, then step + route records). */
public final class TestQueues {
    private TestQueues() {
    }

    public static MetaRecord meta(int schema, int experts, int topK, int[] layers) {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("djl_version", "0.36.0");
        extra.put("moe_layers", "0,1");
        return new MetaRecord(schema, "0.1.0-test", "synthetic:tiny", "moe-host", "0.1.0", "2.7.1", "17.0.15",
                "cpu", "float32", 1234L, 2, experts, topK, layers, "queue=test", 1_700_000_000_000L, 4242L, extra);
    }

    public static ChronicleQueue open(Path dir) {
        return ChronicleQueue.singleBuilder(dir).build();
    }

    /**
     * The golden queue: 8 experts, top-2, layers 0 and 1; a prefill step of two requests, decode steps, one
     * route whose step was never written, one pad row, and awkward floats.
     */
    public static void writeGolden(Path dir) {
        try (ChronicleQueue q = open(dir); ExcerptAppender a = q.createAppender()) {
            SchemaV1Writer.writeMeta(a, meta(RouteFormat.SCHEMA_V1, 8, 2, new int[] {0, 1}));
            SchemaV1Writer.writeStep(a, 1, true, new long[] {0, 0, 0, 1, 1}, new int[] {0, 1, 2, 0, 1}, 5);
            SchemaV1Writer.writeRoute(a, 1, 0, 5, 2, new int[] {3, 1, 0, 7, 2, 5, 6, 4, 1, 3},
                    new float[] {0.6f, 0.3f, 0.5f, 0.25f, 0.1234567f, 0.1f, 1e-5f, 0f, 1f, 0f});
            SchemaV1Writer.writeRoute(a, 1, 1, 5, 2, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 0, 7},
                    new float[] {0.7f, 0.2f, 0.33333334f, 0.33333334f, 0.9f, 0.05f, 0.45f, 0.45f, 0.8f, 0.15f});
            // a route whose step record is missing: counted, not exported
            SchemaV1Writer.writeRoute(a, 99, 0, 1, 2, new int[] {1, 2}, new float[] {0.5f, 0.5f});
            // decode: request 0 token 3, request 1 token 2, and a pad row
            SchemaV1Writer.writeStep(a, 2, false, new long[] {0, 1, -1}, new int[] {3, 2, -1}, 3);
            SchemaV1Writer.writeRoute(a, 2, 0, 3, 2, new int[] {3, 2, 5, 1, 0, 0},
                    new float[] {0.55f, 0.25f, 0.4f, 0.4f, 0f, 0f});
            SchemaV1Writer.writeRoute(a, 2, 1, 3, 2, new int[] {6, 2, 7, 0, 0, 0},
                    new float[] {0.375f, 0.125f, 0.6f, 0.2f, 0f, 0f});
            SchemaV1Writer.writeStep(a, 3, false, new long[] {0}, new int[] {4}, 1);
            SchemaV1Writer.writeRoute(a, 3, 0, 1, 2, new int[] {3, 4}, new float[] {0.5f, 0.3f});
            SchemaV1Writer.writeRoute(a, 3, 1, 1, 2, new int[] {6, 1}, new float[] {0.25f, 0.25f});
        }
    }

    /**
     * A run the way the host would record it: {@code requests} prompts of {@code promptTokens} tokens, a prefill
     * step, then {@code newTokens - 1} decode steps (the last generated token is never fed back), routes drawn
     * from a seeded random source with softmax-like descending weights.
     */
    public static void writeRun(Path dir, int experts, int topK, int[] layers, int requests, int promptTokens,
                                int newTokens, boolean weights, long seed) {
        Random rnd = new Random(seed);
        try (ChronicleQueue q = open(dir); ExcerptAppender a = q.createAppender()) {
            SchemaV1Writer.writeMeta(a, meta(RouteFormat.SCHEMA_V1, experts, topK, layers));
            long step = 0;
            for (int s = 0; s < newTokens; s++) {
                boolean prefill = s == 0;
                int perRequest = prefill ? promptTokens : 1;
                int tokens = requests * perRequest;
                long[] req = new long[tokens];
                int[] pos = new int[tokens];
                for (int r = 0, i = 0; r < requests; r++) {
                    for (int t = 0; t < perRequest; t++, i++) {
                        req[i] = r;
                        pos[i] = prefill ? t : promptTokens + s - 1;
                    }
                }
                SchemaV1Writer.writeStep(a, step, prefill, req, pos, tokens);
                for (int layer : layers) {
                    int[] ids = new int[tokens * topK];
                    float[] w = weights ? new float[tokens * topK] : null;
                    fillRoutes(rnd, experts, topK, tokens, ids, w);
                    SchemaV1Writer.writeRoute(a, step, layer, tokens, topK, ids, w);
                }
                step++;
            }
        }
    }

    /**
     * A schema-2 run (run id {@code runId}, host "testhost") appended to {@code dir}, shaped like {@link #writeRun}:
     * step ids count from 0 in every run, the prefill step carries token ids, decode steps do not; a closing stats
     * record ends the run.
     */
    public static void writeRunV2(Path dir, long runId, int experts, int topK, int[] layers, int requests,
                                  int promptTokens, int newTokens, long seed) {
        Random rnd = new Random(seed);
        try (ChronicleQueue q = open(dir); ExcerptAppender a = q.createAppender()) {
            RouteRecordWriter w = new RouteRecordWriter(a);
            w.writeMeta(meta(RouteFormat.SCHEMA_VERSION, experts, topK, layers).withRun(runId, "testhost"));
            for (int s = 0; s < newTokens; s++) {
                boolean prefill = s == 0;
                int perRequest = prefill ? promptTokens : 1;
                int tokens = requests * perRequest;
                long[] req = new long[tokens];
                int[] pos = new int[tokens];
                int[] tok = new int[tokens];
                for (int r = 0, i = 0; r < requests; r++) {
                    for (int t = 0; t < perRequest; t++, i++) {
                        req[i] = r;
                        pos[i] = prefill ? t : promptTokens + s - 1;
                        tok[i] = 1000 + 7 * i + s;
                    }
                }
                w.writeStep(runId, s, prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE, tokens, req, pos,
                        prefill ? tok : null, null);
                for (int layer : layers) {
                    int[] ids = new int[tokens * topK];
                    float[] wt = new float[tokens * topK];
                    fillRoutes(rnd, experts, topK, tokens, ids, wt);
                    w.writeRoute(runId, s, layer, tokens, topK, ids, wt, false);
                }
            }
            w.writeStats(runId, new StatsRecord(RouteFormat.STATS_EXIT, 1_700_000_001_000L, 1_000_000L, newTokens,
                    newTokens, 5_000L, 1 + newTokens * (1L + layers.length), 0, 0, 0, 0, Map.of()));
        }
    }

    public static final long GOLDEN_RUN = 0x0123_4567_89ab_cdefL;

    /**
     * The schema-2 golden queue: run {@link #GOLDEN_RUN} on host "testhost", 8 experts, top-2, layers 0 and 1; a
     * prefill step with token ids, a mixed step (one prefill row of a new request, one decode row, one pad row)
     * with per-row phases and token ids, a decode step without token ids, a route whose step is missing, and the
     * closing stats record.
     */
    public static void writeGoldenV2(Path dir) {
        long run = GOLDEN_RUN;
        try (ChronicleQueue q = open(dir); ExcerptAppender a = q.createAppender()) {
            RouteRecordWriter w = new RouteRecordWriter(a);
            w.writeMeta(meta(RouteFormat.SCHEMA_VERSION, 8, 2, new int[] {0, 1}).withRun(run, "testhost"));
            w.writeStep(run, 0, RouteFormat.PHASE_PREFILL, 3, new long[] {0, 0, 0}, new int[] {0, 1, 2},
                    new int[] {151643, 9707, 11}, null);
            w.writeRoute(run, 0, 0, 3, 2, new int[] {3, 1, 0, 7, 2, 5}, new float[] {0.6f, 0.3f, 0.5f, 0.25f,
                    0.1234567f, 0.1f}, false);
            w.writeRoute(run, 0, 1, 3, 2, new int[] {0, 1, 2, 3, 4, 5}, new float[] {0.7f, 0.2f, 0.33333334f,
                    0.33333334f, 0.9f, 0.05f}, false);
            w.writeRoute(run, 42, 0, 1, 2, new int[] {1, 2}, new float[] {0.5f, 0.5f}, false);
            w.writeStep(run, 1, RouteFormat.PHASE_MIXED, 3, new long[] {1, 0, -1}, new int[] {0, 3, -1},
                    new int[] {872, 3838, 0}, new byte[] {RouteFormat.PHASE_PREFILL, RouteFormat.PHASE_DECODE,
                        RouteFormat.PHASE_DECODE});
            w.writeRoute(run, 1, 0, 3, 2, new int[] {6, 2, 7, 0, 0, 0}, new float[] {0.375f, 0.125f, 0.6f, 0.2f, 0f,
                    0f}, false);
            w.writeRoute(run, 1, 1, 3, 2, new int[] {3, 4, 5, 6, 0, 0}, new float[] {0.5f, 0.3f, 0.25f, 0.25f, 0f,
                    0f}, false);
            w.writeStep(run, 2, RouteFormat.PHASE_DECODE, 1, new long[] {0}, new int[] {4}, null, null);
            w.writeRoute(run, 2, 0, 1, 2, new int[] {3, 4}, new float[] {0.5f, 0.3f}, false);
            w.writeRoute(run, 2, 1, 1, 2, new int[] {6, 1}, new float[] {0.25f, 0.25f}, false);
            w.writeStats(run, new StatsRecord(RouteFormat.STATS_EXIT, 1_700_000_001_000L, 1_000_000L, 9, 9, 5_000L,
                    11, 2_000, 0, 0, 0, Map.of()));
        }
    }

    public static void fillRoutes(Random rnd, int experts, int topK, int tokens, int[] ids, float[] w) {
        for (int t = 0; t < tokens; t++) {
            float rest = 1f;
            for (int j = 0; j < topK; j++) {
                int e;
                boolean dup;
                do {
                    // skewed towards low ids so statistics are not flat
                    e = (int) (experts * Math.pow(rnd.nextDouble(), 1.5));
                    dup = false;
                    for (int m = 0; m < j; m++) {
                        dup |= ids[t * topK + m] == e;
                    }
                } while (dup);
                ids[t * topK + j] = e;
                if (w != null) {
                    float v = rest * (0.3f + 0.2f * rnd.nextFloat());
                    w[t * topK + j] = v;
                    rest = v;
                }
            }
        }
    }
}
