package io.moeagent.host.model;

import java.util.Map;

/**
 * What one forward step is computing: which request, position, input token and phase each routed token row belongs
 * to. Row i of every {@link Router#selectExperts} call in this step is token {@code positions[i]} (0-based, prompt
 * then generated) of request {@code requestIds[i]}, fed as {@code tokenIds[i]}, in phase {@code rowPhases[i]}. A step
 * may mix prefill rows of new requests with decode rows of running ones (continuous batching). Only the first
 * {@code tokens} entries are meaningful. Built once per step by the generator and passed unchanged to every layer.
 */
public final class StepContext {
    /** {@link #rowPhases} value of a prompt token. */
    public static final byte PREFILL_ROW = 0;
    /** {@link #rowPhases} value of a generated token fed back. */
    public static final byte DECODE_ROW = 1;

    /** Increases by one per forward step of this engine instance. */
    public final long stepId;
    /** True when every row is a prefill row (a prompt pass); false when any row decodes. */
    public final boolean prefill;
    /** Number of routed token rows. */
    public final int tokens;
    /** [tokens] request id of each routed row. */
    public final long[] requestIds;
    /** [tokens] position of each routed row within its request. */
    public final int[] positions;
    /** [tokens] the input token id of each routed row. */
    public final int[] tokenIds;
    /** [tokens] {@link #PREFILL_ROW} or {@link #DECODE_ROW} per routed row. */
    public final byte[] rowPhases;
    /** Facts about the running model (model_id, engine, device, dtype, seed, ...), the same object every step. */
    public final Map<String, String> runInfo;

    public StepContext(long stepId, int tokens, long[] requestIds, int[] positions, int[] tokenIds, byte[] rowPhases,
                       Map<String, String> runInfo) {
        if (requestIds.length < tokens || positions.length < tokens || tokenIds.length < tokens
                || rowPhases.length < tokens) {
            throw new IllegalArgumentException("step context arrays are shorter than its " + tokens + " rows");
        }
        this.stepId = stepId;
        this.prefill = allPrefill(rowPhases, tokens);
        this.tokens = tokens;
        this.requestIds = requestIds;
        this.positions = positions;
        this.tokenIds = tokenIds;
        this.rowPhases = rowPhases;
        this.runInfo = runInfo;
    }

    /** A step whose rows are all in one phase. */
    public static byte[] phases(int tokens, boolean prefill) {
        byte[] phases = new byte[tokens];
        java.util.Arrays.fill(phases, prefill ? PREFILL_ROW : DECODE_ROW);
        return phases;
    }

    private static boolean allPrefill(byte[] rowPhases, int tokens) {
        for (int i = 0; i < tokens; i++) {
            if (rowPhases[i] != PREFILL_ROW) {
                return false;
            }
        }
        return true;
    }
}
