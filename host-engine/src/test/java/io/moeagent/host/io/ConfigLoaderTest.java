package io.moeagent.host.io;

import io.moeagent.host.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    /** The published Qwen1.5-MoE-A2.7B-Chat config.json, abridged to the fields it has. */
    static final String QWEN_CHAT_CONFIG = "{\"architectures\":[\"Qwen2MoeForCausalLM\"],\"attention_dropout\":0.0,"
            + "\"bos_token_id\":151643,\"eos_token_id\":151645,\"hidden_act\":\"silu\",\"hidden_size\":2048,"
            + "\"initializer_range\":0.02,\"intermediate_size\":5632,\"max_position_embeddings\":8192,"
            + "\"max_window_layers\":21,\"model_type\":\"qwen2_moe\",\"num_attention_heads\":16,"
            + "\"num_experts\":60,\"num_experts_per_tok\":4,\"num_hidden_layers\":24,\"num_key_value_heads\":16,"
            + "\"rms_norm_eps\":1e-06,\"rope_theta\":1000000.0,\"sliding_window\":32768,\"tie_word_embeddings\":false,"
            + "\"torch_dtype\":\"bfloat16\",\"transformers_version\":\"4.39.0.dev0\",\"use_cache\":true,"
            + "\"use_sliding_window\":false,\"vocab_size\":151936,\"decoder_sparse_step\":1,"
            + "\"moe_intermediate_size\":1408,\"shared_expert_intermediate_size\":5632,"
            + "\"router_aux_loss_coef\":0.001}";

    ModelConfig load(String config) throws Exception {
        Files.writeString(dir.resolve("config.json"), config);
        return ConfigLoader.load(dir);
    }

    void fails(String config, String... fragments) throws Exception {
        Files.writeString(dir.resolve("config.json"), config);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ConfigLoader.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void realQwenChatConfig() throws Exception {
        ModelConfig c = load(QWEN_CHAT_CONFIG);
        assertEquals(SyntheticCheckpoints.qwenA27bConfig().toString().replaceAll("\\[I@\\w+", ""),
                c.toString().replaceAll("\\[I@\\w+", ""));
        assertEquals(2048, c.hiddenSize());
        assertEquals(128, c.headDim());
        assertArrayEquals(new int[] {151645}, c.eosTokenIds());
        assertArrayEquals(new int[0], c.mlpOnlyLayers());
        assertFalse(c.normTopkProb(), "HF default");
        assertEquals(151643, c.bosTokenId());
        for (int layer = 0; layer < 24; layer++) {
            assertTrue(c.isMoeLayer(layer));
        }
    }

    @Test
    void defaultsFollowTransformers() throws Exception {
        ModelConfig c = load("{\"model_type\":\"qwen2_moe\",\"hidden_size\":64,\"num_hidden_layers\":2,"
                + "\"num_attention_heads\":16,\"moe_intermediate_size\":32,\"shared_expert_intermediate_size\":0,"
                + "\"num_experts\":8,\"num_experts_per_tok\":2,\"vocab_size\":100}");
        assertEquals(16, c.numKeyValueHeads());
        assertEquals(5632, c.intermediateSize());
        assertEquals(1, c.decoderSparseStep());
        assertArrayEquals(new int[0], c.mlpOnlyLayers());
        assertFalse(c.normTopkProb());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(32768, c.maxPositionEmbeddings());
        assertEquals(-1, c.bosTokenId());
        assertArrayEquals(new int[0], c.eosTokenIds());
    }

    @Test
    void generationConfigEosWinsAndMayBeAList() throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [151645, 151643]}");
        assertArrayEquals(new int[] {151645, 151643}, load(QWEN_CHAT_CONFIG).eosTokenIds());
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 151643}");
        assertArrayEquals(new int[] {151643}, load(QWEN_CHAT_CONFIG).eosTokenIds());
        Files.writeString(dir.resolve("generation_config.json"), "{\"do_sample\": true}");
        assertArrayEquals(new int[] {151645}, load(QWEN_CHAT_CONFIG).eosTokenIds());
    }

    @Test
    void sparseStepAndMlpOnlyLayers() throws Exception {
        ModelConfig c = load(QWEN_CHAT_CONFIG.replace("\"decoder_sparse_step\":1", "\"decoder_sparse_step\":2,"
                + "\"mlp_only_layers\":[3],\"norm_topk_prob\":true,\"rope_theta\":5e5"));
        assertFalse(c.isMoeLayer(0));
        assertTrue(c.isMoeLayer(1));
        assertFalse(c.isMoeLayer(3), "listed in mlp_only_layers");
        assertTrue(c.normTopkProb());
        assertEquals(5e5, c.ropeTheta());
    }

    @Test
    void ropeThetaFromTransformers5RopeParameters() throws Exception {
        ModelConfig c = load(QWEN_CHAT_CONFIG.replace("\"rope_theta\":1000000.0,",
                "\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":250000.0},"));
        assertEquals(250000.0, c.ropeTheta());
    }

    @Test
    void unsupportedModelType() throws Exception {
        fails(QWEN_CHAT_CONFIG.replace("qwen2_moe", "mixtral"), "mixtral", "qwen2_moe");
    }

    @Test
    void missingRequiredField() throws Exception {
        fails(QWEN_CHAT_CONFIG.replace("\"num_experts\":60,", ""), "\"num_experts\"", "missing");
        fails(QWEN_CHAT_CONFIG.replace("\"model_type\":\"qwen2_moe\",", ""), "\"model_type\"", "missing");
    }

    @Test
    void wrongTypesAndImpossibleValues() throws Exception {
        fails(QWEN_CHAT_CONFIG.replace("\"hidden_size\":2048", "\"hidden_size\":\"big\""), "\"hidden_size\"",
                "integer");
        fails(QWEN_CHAT_CONFIG.replace("\"num_key_value_heads\":16", "\"num_key_value_heads\":5"),
                "num_key_value_heads 5");
        fails(QWEN_CHAT_CONFIG.replace("\"num_experts_per_tok\":4", "\"num_experts_per_tok\":61"), "exceeds");
        fails(QWEN_CHAT_CONFIG.replace("\"eos_token_id\":151645", "\"eos_token_id\":200000"), "outside");
        fails(QWEN_CHAT_CONFIG.replace("\"hidden_act\":\"silu\"", "\"hidden_act\":\"gelu\""), "gelu");
        fails(QWEN_CHAT_CONFIG.replace("\"use_cache\":true", "\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4}"),
                "yarn");
    }

    @Test
    void damagedJsonAndMissingFile() throws Exception {
        fails("{\"model_type\": ", "not valid JSON");
        Files.delete(dir.resolve("config.json"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ConfigLoader.load(dir));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains(dir.toString()));
    }

    @Test
    void writerOutputReadsBack() throws Exception {
        ModelConfig tiny = SyntheticCheckpoints.tinyConfig(SyntheticCheckpoints.tinyVocabulary());
        ConfigWriter.write(dir, tiny, "bfloat16");
        ModelConfig back = ConfigLoader.load(dir);
        assertEquals(tiny.toString().replaceAll("\\[I@\\w+", ""), back.toString().replaceAll("\\[I@\\w+", ""));
        assertArrayEquals(tiny.eosTokenIds(), back.eosTokenIds());
    }
}
