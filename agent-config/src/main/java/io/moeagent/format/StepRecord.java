package io.moeagent.format;

/**
 * One forward step's token rows, reused by the reader (copy what you keep).
 * Row i is token {@code position(i)} of request {@code requestId(i)}.
 */
public final class StepRecord {
    long stepId;
    boolean prefill;
    int tokens;
    long[] requestIds = new long[64];
    int[] positions = new int[64];

    public long stepId() {
        return stepId;
    }

    public boolean prefill() {
        return prefill;
    }

    public int tokens() {
        return tokens;
    }

    public long requestId(int row) {
        return requestIds[row];
    }

    public int position(int row) {
        return positions[row];
    }

    /** Backing array; only the first {@link #tokens()} entries are valid. */
    public long[] requestIds() {
        return requestIds;
    }

    /** Backing array; only the first {@link #tokens()} entries are valid. */
    public int[] positions() {
        return positions;
    }

    void ensureCapacity(int n) {
        if (requestIds.length < n) {
            int cap = Math.max(n, requestIds.length * 2);
            requestIds = new long[cap];
            positions = new int[cap];
        }
    }

    public StepRecord copy() {
        StepRecord c = new StepRecord();
        c.stepId = stepId;
        c.prefill = prefill;
        c.tokens = tokens;
        c.requestIds = java.util.Arrays.copyOf(requestIds, tokens);
        c.positions = java.util.Arrays.copyOf(positions, tokens);
        return c;
    }
}
