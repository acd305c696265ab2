package io.moeagent.host.model;

import java.util.Arrays;

/**
 * The fields of a Hugging Face {@code config.json} of model_type qwen2_moe that the forward pass needs.
 * Parsed and validated by {@code io.moeagent.host.io.ConfigLoader}.
 */
public record ModelConfig(
        String modelType,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int intermediateSize,
        int moeIntermediateSize,
        int sharedExpertIntermediateSize,
        int numExperts,
        int numExpertsPerTok,
        boolean normTopkProb,
        int decoderSparseStep,
        int[] mlpOnlyLayers,
        double ropeTheta,
        double rmsNormEps,
        int vocabSize,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int[] eosTokenIds,
        int maxPositionEmbeddings) {

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Qwen2-MoE: a layer is sparse unless listed in mlp_only_layers, every decoder_sparse_step-th layer. */
    public boolean isMoeLayer(int layer) {
        return numExperts > 0
                && Arrays.stream(mlpOnlyLayers).noneMatch(l -> l == layer)
                && (layer + 1) % decoderSparseStep == 0;
    }
}
