package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;

/**
 * The router's decision for one layer and one step: for each of {@code tokens} rows, {@code k} experts
 * in descending weight order. The Java arrays are row-major {@code [tokens, k]}; the NDArrays are the same
 * values on the compute device, for the MoE dispatch.
 */
public final class ExpertSelection {
    public final int tokens;
    public final int k;
    /** [tokens * k] expert ids. */
    public final int[] expertIds;
    /** [tokens * k] routing weights (softmax over all experts; renormalised over the top k if norm_topk_prob). */
    public final float[] weights;
    /** [tokens, k] INT64 expert ids on the device. */
    public final NDArray deviceIds;
    /** [tokens, k] weights on the device, in the compute dtype. */
    public final NDArray deviceWeights;

    public ExpertSelection(int tokens, int k, int[] expertIds, float[] weights, NDArray deviceIds,
                           NDArray deviceWeights) {
        this.tokens = tokens;
        this.k = k;
        this.expertIds = expertIds;
        this.weights = weights;
        this.deviceIds = deviceIds;
        this.deviceWeights = deviceWeights;
    }
}
