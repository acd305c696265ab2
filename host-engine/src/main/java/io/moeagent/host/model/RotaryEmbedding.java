package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding, Hugging Face {@code rotate_half} convention: dimension i pairs with i + D/2,
 * {@code inv_freq[i] = theta^(-2i/D)}. Angles are per row, so left-padded rows of a batch each start at 0.
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final double[] inverseFrequency;

    public RotaryEmbedding(int headDim, double theta) {
        this.headDim = headDim;
        this.inverseFrequency = new double[headDim / 2];
        for (int i = 0; i < headDim / 2; i++) {
            inverseFrequency[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
    }

    /** cos and sin for {@code positions} [B * S] (row-major): two arrays [B, 1, S, D] in {@code dtype}. */
    public Tables tables(NDManager manager, int batch, int length, int[] positions, DataType dtype) {
        float[] cos = new float[positions.length * headDim];
        float[] sin = new float[positions.length * headDim];
        int half = headDim / 2;
        for (int row = 0; row < positions.length; row++) {
            for (int i = 0; i < half; i++) {
                double angle = positions[row] * inverseFrequency[i];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                int base = row * headDim;
                cos[base + i] = c;
                cos[base + half + i] = c;
                sin[base + i] = s;
                sin[base + half + i] = s;
            }
        }
        Shape shape = new Shape(batch, 1, length, headDim);
        return new Tables(manager.create(cos, shape).toType(dtype, false),
                manager.create(sin, shape).toType(dtype, false), half);
    }

    /** The angles of one step, shared by every layer. */
    public static final class Tables {
        /** [B, 1, S, D] */
        private final NDArray cos;
        /** [B, 1, S, D] */
        private final NDArray sin;
        private final int half;

        Tables(NDArray cos, NDArray sin, int half) {
            this.cos = cos;
            this.sin = sin;
            this.half = half;
        }

        /** x: [B, heads, S, D] -> x·cos + rotate_half(x)·sin */
        public NDArray apply(NDArray x) {
            NDArray first = x.get(new NDIndex("..., :{}", half));
            NDArray second = x.get(new NDIndex("..., {}:", half));
            NDArray rotated = NDArrays.concat(new NDList(second.neg(), first), -1);
            return x.mul(cos).add(rotated.mul(sin));
        }
    }
}
