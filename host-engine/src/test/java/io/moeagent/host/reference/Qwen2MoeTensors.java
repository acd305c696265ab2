package io.moeagent.host.reference;

import io.moeagent.host.model.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every tensor a qwen2_moe checkpoint of {@code config} holds, by HF name, with its shape ([out, in] layout).
 * Written apart from {@code io.Qwen2MoeTensors} on purpose: the reference names the tensors independently of the
 * loader it checks, and this map's order fixes the draw order of {@link InMemoryWeights#random}, whose weights
 * the generation tests' cases (e.g. a request that meets eos early) were chosen for.
 */
public final class Qwen2MoeTensors {
    private Qwen2MoeTensors() {
    }

    public static Map<String, long[]> shapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        shapes.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {h});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {h});
            shapes.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            shapes.put(p + "self_attn.q_proj.bias", new long[] {q});
            shapes.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            shapes.put(p + "self_attn.k_proj.bias", new long[] {kv});
            shapes.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            shapes.put(p + "self_attn.v_proj.bias", new long[] {kv});
            shapes.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            if (c.isMoeLayer(i)) {
                shapes.put(p + "mlp.gate.weight", new long[] {c.numExperts(), h});
                for (int e = 0; e < c.numExperts(); e++) {
                    mlp(shapes, p + "mlp.experts." + e + ".", h, c.moeIntermediateSize());
                }
                if (c.sharedExpertIntermediateSize() > 0) {
                    mlp(shapes, p + "mlp.shared_expert.", h, c.sharedExpertIntermediateSize());
                    shapes.put(p + "mlp.shared_expert_gate.weight", new long[] {1, h});
                }
            } else {
                mlp(shapes, p + "mlp.", h, c.intermediateSize());
            }
        }
        shapes.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            shapes.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
        return shapes;
    }

    private static void mlp(Map<String, long[]> shapes, String p, long h, long intermediate) {
        shapes.put(p + "gate_proj.weight", new long[] {intermediate, h});
        shapes.put(p + "up_proj.weight", new long[] {intermediate, h});
        shapes.put(p + "down_proj.weight", new long[] {h, intermediate});
    }
}
