package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer for one batch, preallocated to the longest sequence the batch can reach so a
 * decode step writes in place instead of concatenating. Column c holds the token fed at column c of every row.
 */
public final class KvCache implements AutoCloseable {
    /** per layer: [B, kvHeads, maxLen, D] */
    private final NDArray[] keys;
    /** per layer: [B, kvHeads, maxLen, D] */
    private final NDArray[] values;
    private final int maxLength;
    private final NDList owned = new NDList();

    public KvCache(NDManager manager, int layers, int batch, int kvHeads, int maxLength, int headDim, DataType dtype) {
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.maxLength = maxLength;
        Shape shape = new Shape(batch, kvHeads, maxLength, headDim);
        for (int layer = 0; layer < layers; layer++) {
            keys[layer] = manager.zeros(shape, dtype);
            values[layer] = manager.zeros(shape, dtype);
            // the cache outlives the per-step scopes it may be created in
            NDScope.unregister(keys[layer], values[layer]);
            owned.add(keys[layer]);
            owned.add(values[layer]);
        }
    }

    /** Writes k, v [B, kvHeads, S, D] at columns [start, start + S). */
    void write(int layer, int start, NDArray k, NDArray v) {
        long end = start + k.getShape().get(2);
        if (end > maxLength) {
            throw new IllegalStateException("KV cache overflow: column " + end + " > " + maxLength);
        }
        NDIndex columns = new NDIndex(":, :, {}:{}", start, end);
        keys[layer].set(columns, k);
        values[layer].set(columns, v);
    }

    /** Keys [B, kvHeads, end, D] of columns [0, end). */
    NDArray keys(int layer, int end) {
        return keys[layer].get(new NDIndex(":, :, :{}", end));
    }

    /** Values [B, kvHeads, end, D] of columns [0, end). */
    NDArray values(int layer, int end) {
        return values[layer].get(new NDIndex(":, :, :{}", end));
    }

    public int maxLength() {
        return maxLength;
    }

    @Override
    public void close() {
        owned.close();
    }
}
