package io.moeagent.host.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/** Named tensors of a checkpoint (safetensors files on disk, or synthetic weights made in memory). */
public interface WeightSource extends AutoCloseable {
    /**
     * The tensor {@code name}, checked to have exactly {@code expectedShape}, converted to {@code dtype}
     * (BF16/F16/F32 on disk) and placed on {@code manager}'s device. The result is owned by {@code manager}.
     * On the CPU it may wrap a read-only file mapping (no copy): never run an in-place operation on it, which
     * would crash the JVM. Not thread-safe: load tensors from one thread.
     *
     * @throws ModelLoadException naming the tensor and its file when it is missing, mis-shaped or truncated
     */
    NDArray load(String name, NDManager manager, DataType dtype, long... expectedShape);

    boolean contains(String name);

    @Override
    void close();
}
