package io.moeagent.host.io;

import ai.djl.ndarray.types.DataType;

/** The element types this host reads and writes in safetensors files, with their on-disk names. */
public enum TensorDType {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    TensorDType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The safetensors dtype string, or null when this host cannot use tensors of that type. */
    public static TensorDType fromSafetensors(String name) {
        switch (name) {
            case "F32": return F32;
            case "F16": return F16;
            case "BF16": return BF16;
            default: return null;
        }
    }

    /** The compute dtypes a caller may ask for; DJL cannot hold BF16 (it aborts the JVM), so it is never one. */
    public static TensorDType fromComputeType(DataType type) {
        if (type == DataType.FLOAT32) {
            return F32;
        }
        if (type == DataType.FLOAT16) {
            return F16;
        }
        throw new IllegalArgumentException("weights can be loaded as float32 or float16, not " + type);
    }

    public DataType toDataType() {
        if (this == BF16) {
            throw new IllegalStateException("DJL has no usable bfloat16; convert first");
        }
        return this == F32 ? DataType.FLOAT32 : DataType.FLOAT16;
    }
}
