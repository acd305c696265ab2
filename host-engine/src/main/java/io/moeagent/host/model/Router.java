package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

/**
 * The MoE gate of one layer: {@code softmax(x · Wᵀ)} in fp32 over all experts, then the top k in descending order,
 * renormalised over those k only when the checkpoint sets {@code norm_topk_prob} (HF {@code Qwen2MoeSparseMoeBlock}).
 */
public final class Router {
    private final int layerIndex;
    /** gate [E, H], no bias */
    private final Linear gate;
    private final int topK;
    private final boolean normTopkProb;
    private final DataType computeType;

    public Router(int layerIndex, Linear gate, int topK, boolean normTopkProb, DataType computeType) {
        this.layerIndex = layerIndex;
        this.gate = gate;
        this.topK = topK;
        this.normTopkProb = normTopkProb;
        this.computeType = computeType;
    }

    /**
     * Chooses the experts for every row of {@code hiddenStates} [T, H]; row i is token {@code step.positions[i]} of
     * request {@code step.requestIds[i]}. Called once per MoE layer per forward step, with real token rows only.
     */
    public ExpertSelection selectExperts(NDArray hiddenStates, StepContext step) {
        int tokens = Math.toIntExact(hiddenStates.getShape().get(0));
        NDArray probabilities = gate.apply(hiddenStates).toType(DataType.FLOAT32, false).softmax(-1); // [T, E]
        NDList top = probabilities.topK(topK, -1, true, true);
        NDArray weights = top.get(0); // [T, k] fp32
        NDArray ids = top.get(1); // [T, k] INT64
        if (normTopkProb) {
            weights = weights.div(weights.sum(new int[] {-1}, true));
        }
        long[] idsLong = ids.toLongArray();
        int[] expertIds = new int[idsLong.length];
        for (int i = 0; i < idsLong.length; i++) {
            expertIds[i] = (int) idsLong[i];
        }
        return new ExpertSelection(tokens, topK, expertIds, weights.toFloatArray(), ids,
                weights.toType(computeType, false));
    }

    public int layerIndex() {
        return layerIndex;
    }
}
