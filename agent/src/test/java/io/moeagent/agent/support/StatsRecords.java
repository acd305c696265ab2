package io.moeagent.agent.support;

import io.moeagent.format.MetaRecord;
import io.moeagent.format.RecordVisitor;
import io.moeagent.format.RouteQueueReader;
import io.moeagent.format.RouteRecord;
import io.moeagent.format.StatsRecord;
import io.moeagent.format.StepRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The stats records of a queue with their run ids, and how many records of each other kind it holds. */
public final class StatsRecords {
    public record Entry(StatsRecord stats, long runId) {
    }

    public final List<Entry> entries = new ArrayList<>();
    public final List<Long> metaRunIds = new ArrayList<>();
    public long steps;
    public long routes;
    public long skipped;
    public long corrupt;

    public static StatsRecords read(Path dir) {
        StatsRecords r = new StatsRecords();
        try (RouteQueueReader reader = RouteQueueReader.open(dir)) {
            reader.readAll(new RecordVisitor() {
                @Override
                public void onMeta(MetaRecord meta, long index) {
                    r.metaRunIds.add(meta.runId());
                }

                @Override
                public void onStep(StepRecord step, long index) {
                    r.steps++;
                }

                @Override
                public void onRoute(RouteRecord route, long index) {
                    r.routes++;
                }

                @Override
                public void onStats(StatsRecord stats, long runId, long index) {
                    r.entries.add(new Entry(stats, runId));
                }
            });
            r.skipped = reader.skippedRecords();
            r.corrupt = reader.corruptRecords();
        }
        return r;
    }

    public StatsRecord last() {
        return entries.get(entries.size() - 1).stats();
    }

    private StatsRecords() {
    }
}
