package io.moeagent.analyzer.export;

import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.format.MetaRecord;
import java.nio.file.Path;

/**
 * The number of experts when a queue's meta record does not say (an engine recorded without run info or
 * {@code meta.num-experts}): inferred from the data as the highest expert id + 1, which is exact whenever the
 * highest expert was ever selected. Reads the queue once more, only in that case.
 */
public final class ExpertCount {
    private ExpertCount() {
    }

    /** The inferred count when the meta record lacks one, else 0. */
    public static int inferIfUnknown(Path queue) {
        int[] max = {-1};
        boolean[] unknown = {false};
        try (QueueRoutes routes = QueueRoutes.open(queue)) {
            MetaRecord meta = routes.readMeta(new Rows(max));
            if (meta.numExperts() > 0) {
                return 0;
            }
            unknown[0] = true;
            routes.readAll(new Rows(max));
        }
        return unknown[0] ? Math.max(1, max[0] + 1) : 0;
    }

    /** The one line commands print when they inferred the count. */
    public static String note(int experts) {
        return "the meta record does not say how many experts there are; inferred " + experts
                + " from the data (highest expert id + 1)";
    }

    public static MetaRecord withExperts(MetaRecord m, int experts) {
        return new MetaRecord(m.schemaVersion(), m.agentVersion(), m.modelId(), m.engine(), m.engineVersion(),
                m.torchVersion(), m.javaVersion(), m.device(), m.dtype(), m.seed(), m.numLayers(), experts, m.topK(),
                m.layersRecorded(), m.configuration(), m.startTimeMillis(), m.pid(), m.extra(), m.runId(), m.host());
    }

    private record Rows(int[] max) implements QueueRoutes.RowVisitor {
        @Override
        public void onMeta(MetaRecord meta) {
        }

        @Override
        public void onRow(long requestId, int position, int layer, boolean prefill, int[] ids, int offset, int k,
                          float[] weightsOrNull) {
            for (int j = 0; j < k; j++) {
                max[0] = Math.max(max[0], ids[offset + j]);
            }
        }
    }
}
