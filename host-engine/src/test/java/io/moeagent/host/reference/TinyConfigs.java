package io.moeagent.host.reference;

import io.moeagent.host.model.ModelConfig;

/** Small qwen2_moe configurations for tests: every feature of the architecture, seconds to run. */
public final class TinyConfigs {
    private TinyConfigs() {
    }

    /**
     * GQA (4 query heads over 2 KV heads), 3 layers of which layer 1 is dense (mlp_only_layers), 8 experts top-2
     * without renormalisation, a shared expert, untied LM head.
     */
    public static ModelConfig gqaMixed() {
        return new ModelConfig("qwen2_moe", 32, 3, 4, 2, 48, 16, 24, 8, 2, false, 1, new int[] {1}, 10000.0, 1e-6,
                64, false, 1, new int[] {2}, 256);
    }

    /** Multi-head attention, every layer sparse, top-3 of 6 renormalised, tied embeddings. */
    public static ModelConfig mhaNormalized() {
        return new ModelConfig("qwen2_moe", 24, 2, 3, 3, 40, 12, 20, 6, 3, true, 1, new int[0], 1000000.0, 1e-6,
                50, true, 1, new int[] {2}, 256);
    }
}
