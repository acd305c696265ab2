package io.moeagent.analyzer.stats;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.analyzer.source.JsonlRoutes;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.source.ReadCounts;
import io.moeagent.analyzer.source.RouteSourceOptions;
import io.moeagent.format.MetaRecord;
import java.nio.file.Path;

/** Fills a {@link RoutingTally} from a queue or from an exported JSONL file. */
public final class TallyLoader {
    /** What was read: the tally plus the run's description. */
    public record Loaded(RoutingTally tally, String modelId, int topK, int[] layersLogged, ReadCounts counts,
                         String source, int runs, String note) {
        public Loaded(RoutingTally tally, String modelId, int topK, int[] layersLogged, ReadCounts counts,
                      String source) {
            this(tally, modelId, topK, layersLogged, counts, source, 1, null);
        }
    }

    private TallyLoader() {
    }

    /** Exactly one of {@code queue} and {@code jsonl} must be given. */
    public static Loaded load(Path queue, Path jsonl, Integer onlyLayer) {
        if ((queue == null) == (jsonl == null)) {
            throw new AnalyzerException("give either --queue DIR or a routes.jsonl file (not both, not neither)");
        }
        return queue != null ? fromQueue(queue, null, onlyLayer) : fromJsonl(jsonl, onlyLayer);
    }

    /** As {@link #load(Path, Path, Integer)}, honouring {@code --run}. */
    public static Loaded load(RouteSourceOptions source, Integer onlyLayer) {
        if (source.run != null && source.queue == null) {
            throw new AnalyzerException("--run selects a run of a queue; give it with --queue DIR (an exported file"
                    + " holds the runs it was exported with)");
        }
        if (source.run == null) {
            return load(source.queue, source.jsonl, onlyLayer);
        }
        if (source.jsonl != null) {
            throw new AnalyzerException("give either --queue DIR or a routes.jsonl file (not both, not neither)");
        }
        QueueRoutes.Run run = QueueRoutes.pickRun(QueueRoutes.scanRuns(source.queue), source.run, source.queue);
        return fromQueue(source.queue, run.runId(), onlyLayer);
    }

    public static Loaded fromQueue(Path dir, Integer onlyLayer) {
        return fromQueue(dir, null, onlyLayer);
    }

    /** Tallies run {@code runOrNull} of the queue, or every run pooled (they must count the same experts). */
    public static Loaded fromQueue(Path dir, Long runOrNull, Integer onlyLayer) {
        int inferred = io.moeagent.analyzer.export.ExpertCount.inferIfUnknown(dir);
        try (QueueRoutes routes = QueueRoutes.open(dir)) {
            if (runOrNull != null) {
                routes.selectRun(runOrNull);
            }
            RoutingTally[] tally = new RoutingTally[1];
            routes.readAll(new QueueRoutes.RowVisitor() {
                @Override
                public void onMeta(MetaRecord meta) {
                    int experts = checkedExperts(meta.numExperts() > 0 ? meta.numExperts() : inferred, dir.toString());
                    if (tally[0] == null) {
                        tally[0] = new RoutingTally(experts);
                    } else if (tally[0].experts() != experts) {
                        throw new AnalyzerException(dir + " holds runs of models with different expert counts ("
                                + tally[0].experts() + " and " + experts + "); select one with --run RUNID");
                    }
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
                    routes.runs(), inferred > 0 ? io.moeagent.analyzer.export.ExpertCount.note(inferred) : null);
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
