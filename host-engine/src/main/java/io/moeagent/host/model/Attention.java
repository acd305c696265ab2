package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

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
        NDArray scores = q.matMul(cache.transposedKeys(layerIndex, end)).mul(scale) // [B, kvHeads, groups*S, C]
                .toType(DataType.FLOAT32, false)
                .reshape(batch, kvHeads, groups, length, end);
        NDArray probabilities = scores.add(mask).softmax(-1) // fp32, as HF's eager attention
                .reshape(batch, kvHeads, (long) groups * length, end)
                .toType(dtype, false);
        NDArray context = probabilities.matMul(cache.values(layerIndex, end)) // [B, kvHeads, groups*S, D]
                .reshape(batch, heads, length, headDim)
                .transpose(0, 2, 1, 3)
                .reshape((long) batch * length, (long) heads * headDim);
        return output.apply(context);
    }

    /** [B * S, n * D] -> [B, n, S, D] */
    private NDArray heads(NDArray projected, int batch, int length, int n) {
        return projected.reshape(batch, length, n, headDim).transpose(0, 2, 1, 3);
    }
}
