package io.moeagent.format;

/**
 * One layer's expert selection for all token rows of one step, reused by the reader (copy what you keep).
 * Expert ids and weights are row-major {@code [tokens, k]}; weights are absent when the agent ran ids-only.
 * Each row is best-first unless {@link #engineOrder()} says the engine's own order was kept.
 */
public final class RouteRecord {
    long runId;
    long stepId;
    int layer;
    int tokens;
    int k;
    boolean hasWeights;
    boolean engineOrder;
    int[] expertIds = new int[256];
    float[] weights = new float[256];

    /** The recording session (0 for schema 1). */
    public long runId() {
        return runId;
    }

    public long stepId() {
        return stepId;
    }

    public int layer() {
        return layer;
    }

    public int tokens() {
        return tokens;
    }

    public int k() {
        return k;
    }

    public boolean hasWeights() {
        return hasWeights;
    }

    /** True when a row's experts are in the order the engine returned them, which is not known to be best-first. */
    public boolean engineOrder() {
        return engineOrder;
    }

    public int expertId(int row, int j) {
        return expertIds[row * k + j];
    }

    public float weight(int row, int j) {
        return weights[row * k + j];
    }

    /** Backing array; only the first {@code tokens * k} entries are valid. */
    public int[] expertIds() {
        return expertIds;
    }

    /** Backing array; only the first {@code tokens * k} entries are valid, and only if {@link #hasWeights()}. */
    public float[] weights() {
        return weights;
    }

    void ensureCapacity(int n) {
        if (expertIds.length < n) {
            int cap = Math.max(n, expertIds.length * 2);
            expertIds = new int[cap];
            weights = new float[cap];
        }
    }
}
