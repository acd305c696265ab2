package io.moeagent.analyzer.source;

import io.moeagent.format.RouteFormat;

/**
 * One token row of one layer, joined from a step record and a route record. Reused by {@link QueueRoutes}: valid only
 * during {@link QueueRoutes.RowVisitor#onRow(RouteRow)}; copy what you keep. The experts are
 * {@code ids[offset .. offset + k)}, their weights (when recorded) {@code weights[offset .. offset + k)}.
 */
public final class RouteRow {
    /** The recording session (0 for schema 1). */
    public long runId;
    /** The step's id within its run. */
    public long stepId;
    public long requestId;
    public int position;
    public int layer;
    /** The row's own phase: {@link RouteFormat#PHASE_PREFILL} or {@code PHASE_DECODE}. */
    public byte phase;
    public boolean hasTokenId;
    /** The row's input token id; only when {@link #hasTokenId}. */
    public int tokenId;
    public int[] ids;
    public int offset;
    public int k;
    /** Null when the agent ran ids-only. */
    public float[] weights;
    /** True when the row keeps the engine's order, not known to be best-first. */
    public boolean engineOrder;

    public boolean prefill() {
        return phase == RouteFormat.PHASE_PREFILL;
    }
}
