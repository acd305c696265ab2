package io.moeagent.format;

/** Receives decoded records in queue order. Step and route objects are reused between calls. */
public interface RecordVisitor {
    default void onMeta(MetaRecord meta, long index) {
    }

    default void onStep(StepRecord step, long index) {
    }

    default void onRoute(RouteRecord route, long index) {
    }

    /** The agent's statistics for the run {@code runId} (schema 2 only). */
    default void onStats(StatsRecord stats, long runId, long index) {
    }
}
