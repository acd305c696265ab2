package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Qwen2 RMSNorm: the variance is taken in fp32, the result cast back before the weight is applied (as HF does). */
public final class RmsNorm {
    /** [H] */
    private final NDArray weight;
    /** eps as an fp32 scalar tensor: a Java scalar operand would cost a tensor creation on every call */
    private final NDArray eps;

    public RmsNorm(NDArray weight, double eps) {
        this.weight = weight;
        this.eps = weight.getManager().create((float) eps);
    }

    /** x: [N, H] -> [N, H] */
    public NDArray apply(NDArray x) {
        DataType inputType = x.getDataType();
        NDArray x32 = x.toType(DataType.FLOAT32, false);
        NDArray variance = x32.square().mean(new int[] {-1}, true);
        NDArray normalized = x32.div(variance.add(eps).sqrt()).toType(inputType, false);
        return normalized.mul(weight);
    }
}
