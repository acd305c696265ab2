package io.moeagent.analyzer.stats;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.source.JsonlRoutes;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.format.MetaRecord;
import java.nio.file.Path;

/** Fills a {@link RoutingTally} from a queue or from an exported JSONL file. */
public final class TallyLoader {
    /** What was read: the tally plus the run's description. */
    public record Loaded(RoutingTally tally, String modelId, int topK, int[] layersLogged, ReadCounts counts,
                         String source, java.util.List<io.moeagent.analyzer.cost.AgentCost> agentCosts) {
    }

    private TallyLoader() {
    }

    /** Exactly one of {@code queue} and {@code jsonl} must be given. */
    public static Loaded load(Path queue, Path jsonl, Integer onlyLayer) {
        if ((queue == null) == (jsonl == null)) {
            throw new AnalyzerException("give either --queue DIR or a routes.jsonl file (not both, not neither)");
        }
        return queue != null ? fromQueue(queue, onlyLayer) : fromJsonl(jsonl, onlyLayer);
    }

    public static Loaded fromQueue(Path dir, Integer onlyLayer) {
        try (QueueRoutes routes = QueueRoutes.open(dir)) {
            RoutingTally[] tally = new RoutingTally[1];
            io.moeagent.analyzer.cost.AgentCost.Collector costs = new io.moeagent.analyzer.cost.AgentCost.Collector();
            routes.readAll(new QueueRoutes.RowVisitor() {
                @Override
                public void onStats(io.moeagent.format.StatsRecord stats, long runId) {
                    costs.add(stats, runId);
                }

                @Override
                public void onMeta(MetaRecord meta) {
                    tally[0] = new RoutingTally(checkedExperts(meta.numExperts(), dir.toString()));
                }

                @Override
                public void onRow(long requestId, int position, int layer, boolean prefill,
                                  int[] ids, int offset, int k, float[] weights) {
                    if (onlyLayer == null || onlyLayer == layer) {
                        tally[0].add(layer, prefill ? RoutingTally.Phase.PREFILL : RoutingTally.Phase.DECODE,
                                ids, offset, k, weights);
                    }
                }
            });
            MetaRecord m = routes.meta();
            return new Loaded(tally[0], m.modelId(), m.topK(), m.layersRecorded(), routes.counts(), dir.toString(),
                    costs.runs());
        }
    }

    public static Loaded fromJsonl(Path file, Integer onlyLayer) {
        RoutingTally[] tally = new RoutingTally[1];
        JsonlRoutes.RunInfo[] info = new JsonlRoutes.RunInfo[1];
        ReadCounts counts = new ReadCounts();
        JsonlRoutes.read(file, new JsonlRoutes.Visitor() {
            @Override
            public void onMeta(JsonlRoutes.RunInfo meta) {
                info[0] = meta;
                tally[0] = new RoutingTally(checkedExperts(meta.numExperts(), file.toString()));
            }

            @Override
            public void onRoute(JsonlRoutes.Route r) {
                counts.rows++;
                if (onlyLayer == null || onlyLayer == r.layer) {
                    tally[0].add(r.layer, phase(r.phase), r.ids, 0, r.k, r.hasWeights ? r.weights : null);
                }
            }
        });
        return new Loaded(tally[0], info[0].modelId(), info[0].topK(), info[0].layersLogged(), counts,
                file.toString(), java.util.List.of());
    }

    private static RoutingTally.Phase phase(String p) {
        if ("prefill".equals(p)) {
            return RoutingTally.Phase.PREFILL;
        }
        return "decode".equals(p) ? RoutingTally.Phase.DECODE : RoutingTally.Phase.UNKNOWN;
    }

    private static int checkedExperts(int experts, String where) {
        if (experts < 1 || experts > 1 << 14) {
            throw new AnalyzerException(where + ": the meta record says " + experts + " experts; cannot count routes");
        }
        return experts;
    }
}
