package io.moeagent.analyzer.cost;

import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.StatsRecord;
import java.nio.file.Path;
import java.util.List;

/** Reads the agent's stats records from a queue directory (one streaming pass; routes are not joined). */
public final class AgentCostReader {
    private AgentCostReader() {
    }

    public static List<AgentCost> read(Path queue) {
        AgentCost.Collector c = new AgentCost.Collector();
        try (QueueRoutes routes = QueueRoutes.open(queue)) {
            routes.readAvailable(new QueueRoutes.RowVisitor() {
                @Override
                public void onMeta(MetaRecord meta) {
                }

                @Override
                public void onRow(long requestId, int position, int layer, boolean prefill, int[] ids, int offset,
                                  int k, float[] weightsOrNull) {
                }

                @Override
                public void onStats(StatsRecord stats, long runId) {
                    c.add(stats, runId);
                }
            });
        }
        return c.runs();
    }
}
