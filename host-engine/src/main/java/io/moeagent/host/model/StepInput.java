package io.moeagent.host.model;

/**
 * One forward step over a left-padded batch: B rows of S token columns, written to KV-cache columns
 * [cacheStart, cacheStart + S). Row b's real tokens start at cache column {@code firstColumn[b]}; earlier columns are
 * padding, masked out of attention. Only {@code routedRows} (flat indices {@code b * S + s}) reach the MoE router,
 * in the order of {@code context.requestIds}.
 */
public final class StepInput {
    /** Far below any real score yet finite, so exp underflows to exactly 0 without inf - inf. */
    static final float MASKED = -1e30f;

    private final int batch;
    private final int length;
    private final long[] tokenIds;
    private final int[] positions;
    private final int cacheStart;
    private final int[] firstColumn;
    private final long[] routedRows;
    private final StepContext context;

    /**
     * @param tokenIds    [B * S] token ids, row-major (pad columns hold any valid id)
     * @param positions   [B * S] rotary position of each token within its request (pad columns: anything)
     * @param firstColumn [B] first cache column holding a real token of row b
     * @param routedRows  [T] flat indices of the rows the router sees, T == context.tokens
     */
    public StepInput(int batch, int length, long[] tokenIds, int[] positions, int cacheStart, int[] firstColumn,
                     long[] routedRows, StepContext context) {
        if (tokenIds.length != batch * length || positions.length != batch * length || firstColumn.length != batch) {
            throw new IllegalArgumentException("step arrays do not match batch " + batch + " x length " + length);
        }
        if (routedRows.length != context.tokens) {
            throw new IllegalArgumentException(
                    "routed rows " + routedRows.length + " != step context tokens " + context.tokens);
        }
        this.batch = batch;
        this.length = length;
        this.tokenIds = tokenIds;
        this.positions = positions;
        this.cacheStart = cacheStart;
        this.firstColumn = firstColumn;
        this.routedRows = routedRows;
        this.context = context;
    }

    /**
     * Additive attention mask [B, S, cacheStart + S] (row-major): query column q of row b sees cache columns
     * [firstColumn[b], cacheStart + q]. A padding query sees itself, so no softmax row is empty (no NaN can
     * enter the cache).
     */
    float[] attentionMask() {
        int columns = cacheStart + length;
        float[] mask = new float[batch * length * columns];
        java.util.Arrays.fill(mask, MASKED);
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < length; s++) {
                int queryColumn = cacheStart + s;
                int base = (b * length + s) * columns;
                for (int c = firstColumn[b]; c <= queryColumn; c++) {
                    mask[base + c] = 0f;
                }
                mask[base + queryColumn] = 0f;
            }
        }
        return mask;
    }

    /** Whether every row of the batch is routed in flat order (prefill without padding, all rows live). */
    boolean routesAllRowsInOrder() {
        if (routedRows.length != batch * length) {
            return false;
        }
        for (int i = 0; i < routedRows.length; i++) {
            if (routedRows[i] != i) {
                return false;
            }
        }
        return true;
    }

    public int batch() {
        return batch;
    }

    public int length() {
        return length;
    }

    public long[] tokenIds() {
        return tokenIds;
    }

    public int[] positions() {
        return positions;
    }

    public int cacheStart() {
        return cacheStart;
    }

    public long[] routedRows() {
        return routedRows;
    }

    public StepContext context() {
        return context;
    }
}
