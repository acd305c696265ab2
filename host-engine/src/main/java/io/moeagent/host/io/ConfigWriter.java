package io.moeagent.host.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a {@link ModelConfig} as Hugging Face {@code config.json} and {@code generation_config.json}. */
public final class ConfigWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigWriter() {
    }

    public static ObjectNode toJson(ModelConfig c, String torchDtype) {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add("Qwen2MoeForCausalLM");
        n.put("model_type", c.modelType());
        n.put("hidden_act", "silu");
        n.put("hidden_size", c.hiddenSize());
        n.put("num_hidden_layers", c.numHiddenLayers());
        n.put("num_attention_heads", c.numAttentionHeads());
        n.put("num_key_value_heads", c.numKeyValueHeads());
        n.put("intermediate_size", c.intermediateSize());
        n.put("moe_intermediate_size", c.moeIntermediateSize());
        n.put("shared_expert_intermediate_size", c.sharedExpertIntermediateSize());
        n.put("num_experts", c.numExperts());
        n.put("num_experts_per_tok", c.numExpertsPerTok());
        n.put("norm_topk_prob", c.normTopkProb());
        n.put("decoder_sparse_step", c.decoderSparseStep());
        ArrayNode mlpOnly = n.putArray("mlp_only_layers");
        for (int l : c.mlpOnlyLayers()) {
            mlpOnly.add(l);
        }
        n.put("rope_theta", c.ropeTheta());
        n.put("rms_norm_eps", c.rmsNormEps());
        n.put("vocab_size", c.vocabSize());
        n.put("tie_word_embeddings", c.tieWordEmbeddings());
        if (c.bosTokenId() >= 0) {
            n.put("bos_token_id", c.bosTokenId());
        }
        putIds(n, "eos_token_id", c.eosTokenIds());
        n.put("max_position_embeddings", c.maxPositionEmbeddings());
        n.put("torch_dtype", torchDtype);
        n.put("use_sliding_window", false);
        return n;
    }

    public static void write(Path directory, ModelConfig c, String torchDtype) throws IOException {
        Files.writeString(directory.resolve(ConfigLoader.CONFIG_FILE),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(c, torchDtype)));
        ObjectNode generation = JSON.createObjectNode();
        if (c.bosTokenId() >= 0) {
            generation.put("bos_token_id", c.bosTokenId());
        }
        putIds(generation, "eos_token_id", c.eosTokenIds());
        generation.put("do_sample", false);
        Files.writeString(directory.resolve(ConfigLoader.GENERATION_CONFIG_FILE),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(generation));
    }

    private static void putIds(ObjectNode n, String field, int[] ids) {
        if (ids.length == 1) {
            n.put(field, ids[0]);
        } else if (ids.length > 1) {
            ArrayNode a = n.putArray(field);
            for (int id : ids) {
                a.add(id);
            }
        }
    }
}
