package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Causal multi-head / grouped-query self-attention with q/k/v bias and no output bias (Qwen2). */
public final class Attention {
    private final int layerIndex;
    /** q_proj [heads * D, H] + bias [heads * D] */
    private final Linear query;
    /** k_proj [kvHeads * D, H] + bias [kvHeads * D] */
    private final Linear key;
    /** v_proj [kvHeads * D, H] + bias [kvHeads * D] */
    private final Linear value;
    /** o_proj [H, heads * D], no bias */
    private final Linear output;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    /** 1/sqrt(D) as a scalar tensor in the compute dtype (a Java scalar operand costs a tensor creation per call) */
    private final NDArray scale;

    public Attention(int layerIndex, Linear query, Linear key, Linear value, Linear output, int heads, int kvHeads,
                     int headDim) {
        this.layerIndex = layerIndex;
        this.query = query;
        this.key = key;
        this.value = value;
        this.output = output;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = output.weight().getManager().create((float) (1.0 / Math.sqrt(headDim)))
                .toType(output.weight().getDataType(), false);
    }

    /**
     * x: [B * S, H] -> [B * S, H]. Writes this step's keys and values into {@code cache} at
     * {@code input.cacheStart()} and attends over columns [0, cacheStart + S) under {@code mask} [B, 1, 1, S, C].
     * GQA without copying keys: the {@code groups = heads / kvHeads} query heads that share a KV head (HF repeat_kv:
     * head h uses KV head h / groups) are stacked into one [groups * S, D] matrix per KV head.
     */
    public NDArray apply(NDArray x, StepInput input, RotaryEmbedding.Tables rope, NDArray mask, KvCache cache) {
        int batch = input.batch();
        int length = input.length();
        int groups = heads / kvHeads;
        int end = input.cacheStart() + length;
        NDArray q = rope.apply(heads(query.apply(x), batch, length, heads)) // [B, heads, S, D]
                .reshape(batch, kvHeads, (long) groups * length, headDim); // [B, kvHeads, groups*S, D]
        NDArray k = rope.apply(heads(key.apply(x), batch, length, kvHeads)); // [B, kvHeads, S, D]
        NDArray v = heads(value.apply(x), batch, length, kvHeads);
        cache.write(layerIndex, input.cacheStart(), k, v);
        DataType dtype = x.getDataType();
        NDArray scores = q.matMul(cache.transposedKeys(layerIndex, batch, end)).mul(scale) // [B, kvHeads, groups*S, C]
                .toType(DataType.FLOAT32, false)
                .reshape(batch, kvHeads, groups, length, end);
        NDArray probabilities = scores.add(mask).softmax(-1) // fp32, as HF's eager attention
                .reshape(batch, kvHeads, (long) groups * length, end)
                .toType(dtype, false);
        NDArray context = probabilities.matMul(cache.values(layerIndex, batch, end)) // [B, kvHeads, groups*S, D]
                .reshape(batch, heads, length, headDim)
                .transpose(0, 2, 1, 3)
                .reshape((long) batch * length, (long) heads * headDim);
        return output.apply(context);
    }

    /**
     * Continuous batching, x: packed [T, H] -> [T, H]. Writes the T tokens' keys and values to their own (slot,
     * column) cells of {@code cache}, lays the queries out as [B, S] slot rows (padding rows are zero and never read
     * back) and attends over slots [0, B) and columns [0, C) under the step's mask; rope tables are [1, 1, T, D].
     */
    NDArray applyPacked(NDArray x, PackedStepInput.Tensors step, RotaryEmbedding.Tables rope, KvCache cache) {
        int tokens = step.tokens;
        int batch = step.batch;
        int length = step.length;
        int end = step.columns;
        int groups = heads / kvHeads;
        NDArray q = rope.apply(heads(query.apply(x), 1, tokens, heads)) // [1, heads, T, D]
                .reshape(heads, tokens, headDim).transpose(1, 0, 2); // [T, heads, D]
        NDArray k = rope.apply(heads(key.apply(x), 1, tokens, kvHeads))
                .reshape(kvHeads, tokens, headDim).transpose(1, 0, 2); // [T, kvHeads, D]
        NDArray v = value.apply(x).reshape(tokens, kvHeads, headDim);
        cache.put(layerIndex, step.slots, step.cacheColumns, k, v);
        DataType dtype = x.getDataType();
        NDArray zero = x.getManager().zeros(new Shape(1, heads, headDim), dtype);
        NDArray padded = NDArrays.concat(new NDList(q, zero), 0).get(new NDIndex("{}", step.paddedIndex)) // [B*S, heads, D]
                .reshape(batch, length, heads, headDim)
                .transpose(0, 2, 1, 3)
                .reshape(batch, kvHeads, (long) groups * length, headDim);
        NDArray scores = padded.matMul(cache.transposedKeys(layerIndex, batch, end)).mul(scale)
                .toType(DataType.FLOAT32, false)
                .reshape(batch, kvHeads, groups, length, end);
        NDArray probabilities = scores.add(step.mask).softmax(-1)
                .reshape(batch, kvHeads, (long) groups * length, end)
                .toType(dtype, false);
        NDArray context = probabilities.matMul(cache.values(layerIndex, batch, end)) // [B, kvHeads, groups*S, D]
                .reshape(batch, heads, length, headDim)
                .transpose(0, 2, 1, 3)
                .reshape((long) batch * length, (long) heads * headDim)
                .get(new NDIndex("{}", step.packedIndex)); // [T, heads * D]
        return output.apply(context);
    }

    /** [B * S, n * D] -> [B, n, S, D] */
    private NDArray heads(NDArray projected, int batch, int length, int n) {
        return projected.reshape(batch, length, n, headDim).transpose(0, 2, 1, 3);
    }
}
