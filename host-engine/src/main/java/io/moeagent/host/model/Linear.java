package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;

/** {@code y = x · Wᵀ + b} with the weight in Hugging Face's {@code [out, in]} layout (fast for f16 on the CPU too). */
public final class Linear {
    /** [out, in] */
    private final NDArray weight;
    /** [out], or null for no bias */
    private final NDArray bias;

    public Linear(NDArray weight, NDArray bias) {
        this.weight = weight;
        this.bias = bias;
    }

    /** x: [..., in] -> [..., out] */
    public NDArray apply(NDArray x) {
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
    }

    public NDArray weight() {
        return weight;
    }
}
