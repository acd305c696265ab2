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
 * Keys are stored transposed, so {@code q · Kᵀ} reads a prefix of the buffer as it lies (a strided view the matmul
 * takes without a copy; measured ~8x faster per decode step than transposing a key slice).
 */
public final class KvCache implements AutoCloseable {
    /** per layer, transposed: [B, kvHeads, D, maxLen] */
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
        Shape transposed = new Shape(batch, kvHeads, headDim, maxLength);
        for (int layer = 0; layer < layers; layer++) {
            keys[layer] = manager.zeros(transposed, dtype);
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
        keys[layer].set(new NDIndex(":, :, :, {}:{}", start, end), k.transpose(0, 1, 3, 2));
        values[layer].set(new NDIndex(":, :, {}:{}", start, end), v);
    }

    /** Transposed keys [B, kvHeads, D, end] of columns [0, end). */
    NDArray transposedKeys(int layer, int end) {
        return keys[layer].get(new NDIndex(":, :, :, :{}", end));
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
