package io.moeagent.format;

import java.util.Arrays;

/**
 * One forward step's token rows, reused by the reader (copy what you keep).
 * Row i is token {@code position(i)} of request {@code requestId(i)}; its phase is {@code rowPhase(i)} and, when the
 * engine provided them, its input token id {@code tokenId(i)}.
 */
public final class StepRecord {
    long runId;
    long stepId;
    byte phase;
    int tokens;
    boolean hasTokenIds;
    boolean hasRowPhases;
    long[] requestIds = new long[64];
    int[] positions = new int[64];
    int[] tokenIds = new int[64];
    byte[] rowPhases = new byte[64];

    /** The recording session (0 for schema 1). */
    public long runId() {
        return runId;
    }

    /** Unique within its run. */
    public long stepId() {
        return stepId;
    }

    /** {@link RouteFormat#PHASE_PREFILL}, {@code PHASE_DECODE} or {@code PHASE_MIXED}. */
    public byte phase() {
        return phase;
    }

    /** True when every row of the step is a prefill row. */
    public boolean prefill() {
        return phase == RouteFormat.PHASE_PREFILL;
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

    /** The phase of one row: recorded per row, or the step's phase when the step is not mixed. */
    public byte rowPhase(int row) {
        return hasRowPhases ? rowPhases[row] : phase;
    }

    public boolean rowPrefill(int row) {
        return rowPhase(row) == RouteFormat.PHASE_PREFILL;
    }

    public boolean hasTokenIds() {
        return hasTokenIds;
    }

    public boolean hasRowPhases() {
        return hasRowPhases;
    }

    /** The row's input token id; only when {@link #hasTokenIds()}. */
    public int tokenId(int row) {
        return tokenIds[row];
    }

    /** Backing array; only the first {@link #tokens()} entries are valid. */
    public long[] requestIds() {
        return requestIds;
    }

    /** Backing array; only the first {@link #tokens()} entries are valid. */
    public int[] positions() {
        return positions;
    }

    /** Backing array; only the first {@link #tokens()} entries are valid, and only if {@link #hasTokenIds()}. */
    public int[] tokenIds() {
        return tokenIds;
    }

    /** Backing array; only the first {@link #tokens()} entries are valid, and only if {@link #hasRowPhases()}. */
    public byte[] rowPhases() {
        return rowPhases;
    }

    void ensureCapacity(int n) {
        if (requestIds.length < n) {
            int cap = Math.max(n, requestIds.length * 2);
            requestIds = new long[cap];
            positions = new int[cap];
            tokenIds = new int[cap];
            rowPhases = new byte[cap];
        }
    }

    public StepRecord copy() {
        StepRecord c = new StepRecord();
        c.runId = runId;
        c.stepId = stepId;
        c.phase = phase;
        c.tokens = tokens;
        c.hasTokenIds = hasTokenIds;
        c.hasRowPhases = hasRowPhases;
        c.requestIds = Arrays.copyOf(requestIds, tokens);
        c.positions = Arrays.copyOf(positions, tokens);
        c.tokenIds = Arrays.copyOf(tokenIds, tokens);
        c.rowPhases = Arrays.copyOf(rowPhases, tokens);
        return c;
    }
}
