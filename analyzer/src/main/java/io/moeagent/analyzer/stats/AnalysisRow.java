package io.moeagent.analyzer.stats;

/**
 * One token in one layer, as the analyses see it: a flyweight the sources refill for every row (queue or JSONL),
 * valid only during the call that receives it.
 */
public final class AnalysisRow {
    /** Request id (a JSONL textual id is hashed to 64 bits). */
    public long request;
    /** The token's position within its request. */
    public int position;
    public int layer;
    public RoutingTally.Phase phase = RoutingTally.Phase.UNKNOWN;
    /** The input token id; valid when {@link #hasTokenId}. */
    public int tokenId;
    public boolean hasTokenId;
    /** Expert ids at {@code ids[offset .. offset + k)}, best first unless {@link #engineOrder}. */
    public int[] ids;
    public int offset;
    public int k;
    /** Weights at the same offsets, or null. */
    public float[] weights;
    /** The ids are in the engine's order, not known to be best first. */
    public boolean engineOrder;

    /**
     * The first choice: {@code ids[offset]} when best first; with engine order the highest-weight id; -1 when the
     * order is the engine's and there are no weights.
     */
    public int firstChoice() {
        if (!engineOrder) {
            return ids[offset];
        }
        if (weights == null) {
            return -1;
        }
        int best = offset;
        for (int j = offset + 1; j < offset + k; j++) {
            if (weights[j] > weights[best]) {
                best = j;
            }
        }
        return ids[best];
    }
}
