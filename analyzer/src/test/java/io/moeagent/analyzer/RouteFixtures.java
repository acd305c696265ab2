package io.moeagent.analyzer;

import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.nio.file.Path;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;

/**
 * Hand-built schema-2 queues, written with the agent's own {@link RouteRecordWriter}: steps with per-row token ids
 * (or none), then one route record per layer, exactly as given.
 */
public final class RouteFixtures implements AutoCloseable {
    public static final long RUN = 0x1234_5678_9abc_def0L;

    private final ChronicleQueue queue;
    private final ExcerptAppender appender;
    private final RouteRecordWriter writer;
    private final long run;
    private final int k;
    private long step;

    private RouteFixtures(Path dir, long run, int experts, int k, int[] layers) {
        this.queue = TestQueues.open(dir);
        this.appender = queue.createAppender();
        this.writer = new RouteRecordWriter(appender);
        this.run = run;
        this.k = k;
        MetaRecord meta = TestQueues.meta(RouteFormat.SCHEMA_VERSION, experts, k, layers).withRun(run, "testhost");
        writer.writeMeta(meta);
    }

    public static RouteFixtures open(Path dir, int experts, int k, int[] layers) {
        return new RouteFixtures(dir, RUN, experts, k, layers);
    }

    public static RouteFixtures open(Path dir, long run, int experts, int k, int[] layers) {
        return new RouteFixtures(dir, run, experts, k, layers);
    }

    /**
     * One step: rows (request, position, token id or null), then for each layer id in {@code layers} the rows'
     * expert ids, best first ({@code ids[layer index][row * k + j]}); weights descending from 0.5.
     */
    public RouteFixtures step(boolean prefill, long[] requests, int[] positions, int[] tokenIdsOrNull, int[] layers,
                              int[][] ids) {
        int tokens = requests.length;
        writer.writeStep(run, step, prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE, tokens, requests,
                positions, tokenIdsOrNull, null);
        for (int l = 0; l < layers.length; l++) {
            float[] w = new float[tokens * k];
            for (int i = 0; i < w.length; i++) {
                w[i] = 0.5f / (1 + i % k);
            }
            writer.writeRoute(run, step, layers[l], tokens, k, ids[l], w, false);
        }
        step++;
        return this;
    }

    @Override
    public void close() {
        appender.close();
        queue.close();
    }
}
