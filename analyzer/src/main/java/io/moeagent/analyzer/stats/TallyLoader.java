package io.moeagent.analyzer.stats;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.source.JsonlRoutes;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.analyzer.source.RouteSourceOptions;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecord;
import io.moeagent.format.StepRecord;
import java.nio.file.Path;

/**
 * Fills a {@link RoutingTally} and the {@link RouteAnalyses} from a queue or from an exported JSONL file, in one
 * streaming pass.
 */
public final class TallyLoader {
    /** What was read: the tally and analyses plus the run's description. */
    public record Loaded(RoutingTally tally, RouteAnalyses analyses, String modelId, int topK, int[] layersLogged,
                         ReadCounts counts, String source, int runs, String note,
                         java.util.List<io.moeagent.analyzer.cost.AgentCost> agentCosts) {
        public Loaded(RoutingTally tally, RouteAnalyses analyses, String modelId, int topK, int[] layersLogged,
                      ReadCounts counts, String source) {
            this(tally, analyses, modelId, topK, layersLogged, counts, source, 1, null, java.util.List.of());
        }
    }

    private TallyLoader() {
    }

    /** Exactly one of {@code queue} and {@code jsonl} must be given. */
    public static Loaded load(Path queue, Path jsonl, Integer onlyLayer) {
        return load(queue, jsonl, onlyLayer, RouteAnalyses.Options.DEFAULT);
    }

    public static Loaded load(Path queue, Path jsonl, Integer onlyLayer, RouteAnalyses.Options options) {
        if ((queue == null) == (jsonl == null)) {
            throw new AnalyzerException("give either --queue DIR or a routes.jsonl file (not both, not neither)");
        }
        return queue != null ? fromQueue(queue, null, onlyLayer, options) : fromJsonl(jsonl, onlyLayer, options);
    }

    /** As {@link #load(Path, Path, Integer, RouteAnalyses.Options)}, honouring {@code --run}. */
    public static Loaded load(RouteSourceOptions source, Integer onlyLayer, RouteAnalyses.Options options) {
        if (source.run != null && source.queue == null) {
            throw new AnalyzerException("--run selects a run of a queue; give it with --queue DIR (an exported file"
                    + " holds the runs it was exported with)");
        }
        if (source.run == null) {
            return load(source.queue, source.jsonl, onlyLayer, options);
        }
        if (source.jsonl != null) {
            throw new AnalyzerException("give either --queue DIR or a routes.jsonl file (not both, not neither)");
        }
        QueueRoutes.Run run = QueueRoutes.pickRun(QueueRoutes.scanRuns(source.queue), source.run, source.queue);
        return fromQueue(source.queue, run.runId(), onlyLayer, options);
    }

    public static Loaded load(RouteSourceOptions source, Integer onlyLayer) {
        return load(source, onlyLayer, RouteAnalyses.Options.DEFAULT);
    }

    public static Loaded fromQueue(Path dir, Integer onlyLayer) {
        return fromQueue(dir, null, onlyLayer, RouteAnalyses.Options.DEFAULT);
    }

    public static Loaded fromQueue(Path dir, Integer onlyLayer, RouteAnalyses.Options options) {
        return fromQueue(dir, null, onlyLayer, options);
    }

    /** Tallies run {@code runOrNull} of the queue, or every run pooled (they must count the same experts). */
    public static Loaded fromQueue(Path dir, Long runOrNull, Integer onlyLayer, RouteAnalyses.Options options) {
        int inferred = io.moeagent.analyzer.export.ExpertCount.inferIfUnknown(dir);
        try (QueueRoutes routes = QueueRoutes.open(dir)) {
            if (runOrNull != null) {
                routes.selectRun(runOrNull);
            }
            QueueFill fill = new QueueFill(dir.toString(), onlyLayer, options, inferred);
            routes.readAll(fill);
            MetaRecord m = routes.meta();
            return new Loaded(fill.tally, fill.analyses, m.modelId(), m.topK(), m.layersRecorded(), routes.counts(),
                    dir.toString(), routes.runs(),
                    inferred > 0 ? io.moeagent.analyzer.export.ExpertCount.note(inferred) : null, fill.costs.runs());
        }
    }

    /** Mixes the run id into the request id, so that requests of two runs pooled in one queue stay apart. */
    static long requestKey(long runId, long request) {
        return runId == 0 ? request : request ^ (runId * 0x9E3779B97F4A7C15L);
    }

    private static final class QueueFill implements QueueRoutes.RowVisitor {
        private final String where;
        private final Integer onlyLayer;
        private final RouteAnalyses.Options options;
        private final AnalysisRow row = new AnalysisRow();
        final io.moeagent.analyzer.cost.AgentCost.Collector costs = new io.moeagent.analyzer.cost.AgentCost.Collector();
        RoutingTally tally;
        RouteAnalyses analyses;
        private final int inferred;
        private boolean inLayer;

        QueueFill(String where, Integer onlyLayer, RouteAnalyses.Options options, int inferred) {
            this.where = where;
            this.onlyLayer = onlyLayer;
            this.options = options;
            this.inferred = inferred;
        }

        @Override
        public void onMeta(MetaRecord meta) {
            int experts = checkedExperts(meta.numExperts() > 0 ? meta.numExperts() : inferred, where);
            if (tally == null) {
                tally = new RoutingTally(experts);
                analyses = new RouteAnalyses(experts, meta.topK(), layersFor(meta.layersRecorded(), onlyLayer),
                        options);
            } else if (tally.experts() != experts) {
                throw new AnalyzerException(where + " holds runs of models with different expert counts ("
                        + tally.experts() + " and " + experts + "); select one with --run RUNID");
            }
        }

        @Override
        public void onStats(io.moeagent.format.StatsRecord stats, long runId) {
            costs.add(stats, runId);
        }

        @Override
        public void onRouteStart(StepRecord step, RouteRecord route) {
            inLayer = onlyLayer == null || onlyLayer == route.layer();
            if (inLayer) {
                analyses.startRecord(route.layer());
            }
        }

        @Override
        public void onRow(io.moeagent.analyzer.source.RouteRow in) {
            if (!inLayer) {
                return;
            }
            RoutingTally.Phase p = in.phase == RouteFormat.PHASE_PREFILL ? RoutingTally.Phase.PREFILL
                    : in.phase == RouteFormat.PHASE_DECODE ? RoutingTally.Phase.DECODE : RoutingTally.Phase.UNKNOWN;
            if (!tally.add(in.layer, p, in.ids, in.offset, in.k, in.weights)) {
                return;
            }
            AnalysisRow r = row;
            r.request = requestKey(in.runId, in.requestId);
            r.position = in.position;
            r.layer = in.layer;
            r.phase = p;
            r.hasTokenId = in.hasTokenId;
            r.tokenId = in.tokenId;
            r.ids = in.ids;
            r.offset = in.offset;
            r.k = in.k;
            r.weights = in.weights;
            r.engineOrder = in.engineOrder;
            analyses.add(r);
        }

        @Override
        public void onRouteEnd() {
            if (inLayer) {
                analyses.endRecord();
            }
        }

        @Override
        public void onRow(long requestId, int position, int layer, boolean prefill, int[] ids, int offset, int k,
                          float[] weightsOrNull) {
            throw new IllegalStateException("rows arrive with their step record");
        }
    }

    private static int[] layersFor(int[] logged, Integer onlyLayer) {
        return onlyLayer == null ? logged : new int[] {onlyLayer};
    }

    public static Loaded fromJsonl(Path file, Integer onlyLayer) {
        return fromJsonl(file, onlyLayer, RouteAnalyses.Options.DEFAULT);
    }

    public static Loaded fromJsonl(Path file, Integer onlyLayer, RouteAnalyses.Options options) {
        RoutingTally[] tally = new RoutingTally[1];
        RouteAnalyses[] analyses = new RouteAnalyses[1];
        JsonlRoutes.RunInfo[] info = new JsonlRoutes.RunInfo[1];
        ReadCounts counts = new ReadCounts();
        AnalysisRow row = new AnalysisRow();
        RecordBoundaries boundaries = new RecordBoundaries();
        boolean[] open = new boolean[1];
        boolean[] engineOrder = new boolean[1];
        JsonlRoutes.read(file, new JsonlRoutes.Visitor() {
            @Override
            public void onMeta(JsonlRoutes.RunInfo meta) {
                info[0] = meta;
                int experts = checkedExperts(meta.numExperts(), file.toString());
                tally[0] = new RoutingTally(experts);
                analyses[0] = new RouteAnalyses(experts, meta.topK(), layersFor(meta.layersLogged(), onlyLayer),
                        options);
                engineOrder[0] = "engine".equals(meta.json().path("expert_order").asText(""));
            }

            @Override
            public void onRoute(JsonlRoutes.Route r) {
                counts.rows++;
                if (onlyLayer != null && onlyLayer != r.layer) {
                    return;
                }
                RoutingTally.Phase p = phase(r.phase);
                float[] weights = r.hasWeights ? r.weights : null;
                AnalysisRow x = row;
                x.request = r.request;
                x.position = r.tokenIdx;
                x.layer = r.layer;
                x.phase = p;
                x.hasTokenId = r.hasTokenId;
                x.tokenId = r.tokenId;
                x.ids = r.ids;
                x.offset = 0;
                x.k = r.k;
                x.weights = weights;
                x.engineOrder = engineOrder[0];
                if (boundaries.startsRecord(x)) {
                    if (open[0]) {
                        analyses[0].endRecord();
                    }
                    analyses[0].startRecord(r.layer);
                    open[0] = true;
                }
                if (tally[0].add(r.layer, p, r.ids, 0, r.k, weights)) {
                    analyses[0].add(x);
                }
            }
        });
        if (open[0]) {
            analyses[0].endRecord();
        }
        return new Loaded(tally[0], analyses[0], info[0].modelId(), info[0].topK(), info[0].layersLogged(), counts,
                file.toString());
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
