package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;

/**
 * Runs the routed experts of one layer on the rows the router assigned them and returns
 * {@code Σ_j weight[t, j] · expert[ids[t, j]](x[t])} for every row t. Implementations differ only in how the
 * work is laid out on the device.
 */
public interface ExpertDispatch {
    /** x: [T, H] -> [T, H] */
    NDArray apply(NDArray x, ExpertSelection selection);

    /**
     * Weighted sum over the k slots: {@code expertRows} holds one output row per (token, slot) pair in any layout;
     * {@code rowOfPair[t * k + j]} (INT64, on the device) names the row of pair (t, j).
     */
    static NDArray combine(NDArray expertRows, NDArray rowOfPair, ExpertSelection selection) {
        long hidden = expertRows.getShape().get(1);
        NDArray perPair = expertRows.get(new ai.djl.ndarray.index.NDIndex("{}", rowOfPair))
                .reshape(selection.tokens, selection.k, hidden); // [T, k, H]
        return perPair.mul(selection.deviceWeights.expandDims(-1)).sum(new int[] {1});
    }
}
