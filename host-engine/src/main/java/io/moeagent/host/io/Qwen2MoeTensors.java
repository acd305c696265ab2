package io.moeagent.host.io;

import io.moeagent.host.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/** The tensor names and shapes of a Hugging Face Qwen2-MoE checkpoint, derived from its config. */
public final class Qwen2MoeTensors {
    /** One expected tensor. */
    public record Spec(String name, long[] shape) {
    }

    private Qwen2MoeTensors() {
    }

    public static String layer(int layer, String suffix) {
        return "model.layers." + layer + "." + suffix;
    }

    public static String expert(int layer, int expert, String projection) {
        return layer(layer, "mlp.experts." + expert + "." + projection + ".weight");
    }

    /** Every tensor the forward pass reads, in the order Hugging Face writes them. */
    public static List<Spec> all(ModelConfig c) {
        long h = c.hiddenSize();
        long qDim = (long) c.numAttentionHeads() * c.headDim();
        long kvDim = (long) c.numKeyValueHeads() * c.headDim();
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec("model.embed_tokens.weight", new long[] {c.vocabSize(), h}));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            specs.add(new Spec(layer(i, "input_layernorm.weight"), new long[] {h}));
            specs.add(new Spec(layer(i, "self_attn.q_proj.weight"), new long[] {qDim, h}));
            specs.add(new Spec(layer(i, "self_attn.q_proj.bias"), new long[] {qDim}));
            specs.add(new Spec(layer(i, "self_attn.k_proj.weight"), new long[] {kvDim, h}));
            specs.add(new Spec(layer(i, "self_attn.k_proj.bias"), new long[] {kvDim}));
            specs.add(new Spec(layer(i, "self_attn.v_proj.weight"), new long[] {kvDim, h}));
            specs.add(new Spec(layer(i, "self_attn.v_proj.bias"), new long[] {kvDim}));
            specs.add(new Spec(layer(i, "self_attn.o_proj.weight"), new long[] {h, qDim}));
            specs.add(new Spec(layer(i, "post_attention_layernorm.weight"), new long[] {h}));
            if (c.isMoeLayer(i)) {
                long inter = c.moeIntermediateSize();
                specs.add(new Spec(layer(i, "mlp.gate.weight"), new long[] {c.numExperts(), h}));
                for (int e = 0; e < c.numExperts(); e++) {
                    specs.add(new Spec(expert(i, e, "gate_proj"), new long[] {inter, h}));
                    specs.add(new Spec(expert(i, e, "up_proj"), new long[] {inter, h}));
                    specs.add(new Spec(expert(i, e, "down_proj"), new long[] {h, inter}));
                }
                if (c.sharedExpertIntermediateSize() > 0) {
                    long shared = c.sharedExpertIntermediateSize();
                    specs.add(new Spec(layer(i, "mlp.shared_expert.gate_proj.weight"), new long[] {shared, h}));
                    specs.add(new Spec(layer(i, "mlp.shared_expert.up_proj.weight"), new long[] {shared, h}));
                    specs.add(new Spec(layer(i, "mlp.shared_expert.down_proj.weight"), new long[] {h, shared}));
                    specs.add(new Spec(layer(i, "mlp.shared_expert_gate.weight"), new long[] {1, h}));
                }
            } else {
                long inter = c.intermediateSize();
                specs.add(new Spec(layer(i, "mlp.gate_proj.weight"), new long[] {inter, h}));
                specs.add(new Spec(layer(i, "mlp.up_proj.weight"), new long[] {inter, h}));
                specs.add(new Spec(layer(i, "mlp.down_proj.weight"), new long[] {h, inter}));
            }
        }
        specs.add(new Spec("model.norm.weight", new long[] {h}));
        if (!c.tieWordEmbeddings()) {
            specs.add(new Spec("lm_head.weight", new long[] {c.vocabSize(), h}));
        }
        return specs;
    }
}
