package io.moeagent.agent.support;

import io.moeagent.format.MetaRecord;
import io.moeagent.format.RecordVisitor;
import io.moeagent.format.RouteQueueReader;
import io.moeagent.format.RouteRecord;
import io.moeagent.format.StepRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Everything in a queue, decoded with the format's own reader and flattened to one row per routed token. */
public final class Routes {
    /**
     * One token row of one route record; {@code phase} is the row's own phase ({@link StepRecord#rowPhase}), {@code
     * tokenId} its input token (-1 when the step record has none).
     */
    public record Row(long stepId, boolean prefill, int layer, long request, int position, int[] ids, float[] weights,
                      byte phase, int tokenId) {
        public String key() {
            return request + "/" + position + "/" + layer;
        }
    }

    public final List<MetaRecord> metas = new ArrayList<>();
    public final List<StepRecord> steps = new ArrayList<>();
    public final List<Row> rows = new ArrayList<>();
    public int routeRecords;
    public int orphanRoutes;
    /** Route records flagged as rows in the engine's order (not known best-first). */
    public int engineOrderRoutes;
    public long skipped;

    public static Routes read(Path dir) {
        Routes r = new Routes();
        Map<Long, StepRecord> byId = new HashMap<>();
        try (RouteQueueReader reader = RouteQueueReader.open(dir)) {
            reader.readAll(new RecordVisitor() {
                @Override
                public void onMeta(MetaRecord meta, long index) {
                    r.metas.add(meta);
                }

                @Override
                public void onStep(StepRecord step, long index) {
                    StepRecord c = step.copy();
                    r.steps.add(c);
                    byId.put(c.stepId(), c);
                }

                @Override
                public void onRoute(RouteRecord route, long index) {
                    r.routeRecords++;
                    if (route.engineOrder()) {
                        r.engineOrderRoutes++;
                    }
                    StepRecord s = byId.get(route.stepId());
                    if (s == null || s.tokens() != route.tokens()) {
                        r.orphanRoutes++;
                        return;
                    }
                    for (int row = 0; row < route.tokens(); row++) {
                        int[] ids = new int[route.k()];
                        float[] w = route.hasWeights() ? new float[route.k()] : null;
                        for (int j = 0; j < route.k(); j++) {
                            ids[j] = route.expertId(row, j);
                            if (w != null) {
                                w[j] = route.weight(row, j);
                            }
                        }
                        r.rows.add(new Row(route.stepId(), s.prefill(), route.layer(), s.requestId(row),
                                s.position(row), ids, w, s.rowPhase(row), s.hasTokenIds() ? s.tokenId(row) : -1));
                    }
                }
            });
            r.skipped = reader.skippedRecords();
        }
        return r;
    }

    private Routes() {
    }
}
