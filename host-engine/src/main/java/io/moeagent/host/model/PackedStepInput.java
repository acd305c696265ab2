package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;

/**
 * One forward step of continuous batching: T real tokens of up to B cache slots, each slot a running request with a
 * ragged number of tokens this step (a prefill chunk of a new request, one decode token of a running one, or none).
 * Tokens are packed slot by slot with consecutive positions; a request's token at position p lives in cache column p
 * of its slot (no padding anywhere in the cache). Every dense layer and the router see only the T packed tokens, in
 * the order of {@code context}; only attention lays them out as [B, S] (S = most tokens of one slot this step).
 */
public final class PackedStepInput {
    private final long[] tokenIds;
    private final int[] positions;
    private final int[] slots;
    private final int[] sampleTokens;
    private final StepContext context;
    private final int batch;
    private final int length;
    private final int columns;
    private final int[] rowStart;
    private final int[] rowTokens;

    /**
     * @param tokenIds     [T] input token of each packed token
     * @param positions    [T] position of each token within its request (= its cache column)
     * @param slots        [T] cache slot of each token; one slot's tokens are adjacent with consecutive positions
     * @param sampleTokens packed indices whose next-token logits the step returns, in this order
     */
    public PackedStepInput(long[] tokenIds, int[] positions, int[] slots, int[] sampleTokens, StepContext context) {
        int tokens = tokenIds.length;
        if (tokens == 0 || positions.length != tokens || slots.length != tokens || context.tokens != tokens) {
            throw new IllegalArgumentException("packed step arrays do not match its " + tokens + " tokens");
        }
        this.tokenIds = tokenIds;
        this.positions = positions;
        this.slots = slots;
        this.sampleTokens = sampleTokens;
        this.context = context;
        this.batch = Arrays.stream(slots).max().getAsInt() + 1;
        this.rowStart = new int[batch];
        this.rowTokens = new int[batch];
        int longest = 0;
        int end = 1;
        for (int t = 0; t < tokens; t++) {
            int slot = slots[t];
            boolean continues = t > 0 && slots[t - 1] == slot;
            if (continues ? positions[t] != positions[t - 1] + 1 : rowTokens[slot] != 0) {
                throw new IllegalArgumentException("token " + t + ": a slot's tokens must be adjacent and consecutive");
            }
            if (!continues) {
                rowStart[slot] = positions[t];
            }
            rowTokens[slot]++;
            longest = Math.max(longest, rowTokens[slot]);
            end = Math.max(end, positions[t] + 1);
        }
        this.length = longest;
        this.columns = end;
    }

    public StepContext context() {
        return context;
    }

    public int tokens() {
        return tokenIds.length;
    }

    public long[] tokenIds() {
        return tokenIds;
    }

    public int[] positions() {
        return positions;
    }

    public int[] sampleTokens() {
        return sampleTokens;
    }

    /** Cache slots the step spans: [0, batch). */
    public int batch() {
        return batch;
    }

    /** Cache columns attention reads: [0, columns). */
    public int columns() {
        return columns;
    }

    /** The index and mask tensors of this step, shared by every layer. */
    Tensors tensors(NDManager manager) {
        int tokens = tokenIds.length;
        long[] padded = new long[batch * length];
        Arrays.fill(padded, tokens); // the zero row appended after the packed rows
        long[] packed = new long[tokens];
        long[] slotIndex = new long[tokens];
        long[] columnIndex = new long[tokens];
        for (int t = 0; t < tokens; t++) {
            int flat = slots[t] * length + positions[t] - rowStart[slots[t]];
            padded[flat] = t;
            packed[t] = flat;
            slotIndex[t] = slots[t];
            columnIndex[t] = positions[t];
        }
        return new Tensors(batch, length, columns, tokens, manager.create(padded), manager.create(packed),
                manager.create(slotIndex), manager.create(columnIndex),
                manager.create(attentionMask(), new Shape(batch, 1, 1, length, columns)));
    }

    /**
     * Additive mask [B, S, C]: query s of slot b sees cache columns [0, rowStart[b] + s]. A padding query sees
     * column 0 only, so no softmax row is empty; its output is never gathered back.
     */
    float[] attentionMask() {
        float[] mask = new float[batch * length * columns];
        Arrays.fill(mask, StepInput.MASKED);
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < length; s++) {
                int base = (b * length + s) * columns;
                int last = s < rowTokens[b] ? rowStart[b] + s : 0;
                Arrays.fill(mask, base, base + last + 1, 0f);
            }
        }
        return mask;
    }

    /** Device copies of the step's indices, made once per step. */
    static final class Tensors {
        final int batch;
        final int length;
        final int columns;
        final int tokens;
        /** [B * S] packed index of each padded attention row (T: the zero row) */
        final NDArray paddedIndex;
        /** [T] padded attention row of each packed token */
        final NDArray packedIndex;
        /** [T] cache slot of each token */
        final NDArray slots;
        /** [T] cache column of each token */
        final NDArray cacheColumns;
        /** fp32 [B, 1, 1, S, C], broadcast over KV heads and query groups */
        final NDArray mask;

        Tensors(int batch, int length, int columns, int tokens, NDArray paddedIndex, NDArray packedIndex,
                NDArray slots, NDArray cacheColumns, NDArray mask) {
            this.batch = batch;
            this.length = length;
            this.columns = columns;
            this.tokens = tokens;
            this.paddedIndex = paddedIndex;
            this.packedIndex = packedIndex;
            this.slots = slots;
            this.cacheColumns = cacheColumns;
            this.mask = mask;
        }
    }
}
