package io.moeagent.agent.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.io.SafetensorsFile;
import io.moeagent.host.io.SafetensorsWriter;
import io.moeagent.host.io.TensorDType;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tiny random Mixtral checkpoint in the layout Jlama loads (see shared FACTS.md "Jlama"): {@code config.json}
 * ({@code model_type} mixtral), one F32 {@code model.safetensors} with Hugging Face Mixtral tensor names, and a
 * Llama-style BPE {@code tokenizer.json} with byte fallback (special tokens, 256 byte tokens, lower-case letters).
 * Written through the host's safetensors writer; gate weights are read back through the host's reader.
 */
public final class JlamaCheckpoint {
    public static final int LAYERS = 3;
    public static final int EXPERTS = 8;
    public static final int TOP_K = 2;
    public static final int HIDDEN = 64;
    public static final int HEADS = 4;
    public static final int INTERMEDIATE = 128;
    private static final String LETTERS = "abcdefghijklmnopqrstuvwxyz";
    public static final int VOCAB = 3 + 256 + LETTERS.length() + 1;

    private JlamaCheckpoint() {
    }

    public static void write(Path dir, long seed) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("MixtralForCausalLM");
        c.put("model_type", "mixtral");
        c.put("hidden_size", HIDDEN);
        c.put("intermediate_size", INTERMEDIATE);
        c.put("num_attention_heads", HEADS);
        c.put("num_key_value_heads", HEADS);
        c.put("num_hidden_layers", LAYERS);
        c.put("num_local_experts", EXPERTS);
        c.put("num_experts_per_tok", TOP_K);
        c.put("max_position_embeddings", 128);
        c.put("rms_norm_eps", 1e-5);
        c.put("vocab_size", VOCAB);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("rope_theta", 10000.0);
        c.put("hidden_act", "silu");
        c.put("torch_dtype", "float32");
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);

        ObjectNode tok = json.createObjectNode();
        ArrayNode added = tok.putArray("added_tokens");
        String[] special = {"<unk>", "<s>", "</s>"};
        ObjectNode vocab = json.createObjectNode();
        for (int i = 0; i < special.length; i++) {
            added.addObject().put("id", i).put("content", special[i]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
            vocab.put(special[i], i);
        }
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), 3 + b);
        }
        for (int i = 0; i < LETTERS.length(); i++) {
            vocab.put(LETTERS.substring(i, i + 1), 3 + 256 + i);
        }
        vocab.put("\u2581", VOCAB - 1);
        ObjectNode model = tok.putObject("model");
        model.put("type", "BPE");
        model.put("unk_token", "<unk>");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.set("vocab", vocab);
        model.putArray("merges");
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), tok);

        SplittableRandom random = new SplittableRandom(seed);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        tensors.add(random(random, "model.embed_tokens.weight", 1.0f, VOCAB, HIDDEN));
        for (int l = 0; l < LAYERS; l++) {
            String base = "model.layers." + l + ".";
            tensors.add(ones(base + "input_layernorm.weight", HIDDEN));
            tensors.add(ones(base + "post_attention_layernorm.weight", HIDDEN));
            for (String p : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
                tensors.add(random(random, base + "self_attn." + p + ".weight", 0.125f, HIDDEN, HIDDEN));
            }
            tensors.add(random(random, base + "block_sparse_moe.gate.weight", 0.5f, EXPERTS, HIDDEN));
            for (int e = 0; e < EXPERTS; e++) {
                String ex = base + "block_sparse_moe.experts." + e + ".";
                tensors.add(random(random, ex + "w1.weight", 0.125f, INTERMEDIATE, HIDDEN));
                tensors.add(random(random, ex + "w2.weight", 0.09f, HIDDEN, INTERMEDIATE));
                tensors.add(random(random, ex + "w3.weight", 0.125f, INTERMEDIATE, HIDDEN));
            }
        }
        tensors.add(ones("model.norm.weight", HIDDEN));
        tensors.add(random(random, "lm_head.weight", 0.125f, VOCAB, HIDDEN));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of());
    }

    /** The router weights of one layer, {@code [EXPERTS][HIDDEN]}, read back from the checkpoint. */
    public static float[][] gate(Path dir, int layer) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            FloatBuffer b = f.map(f.info("model.layers." + layer + ".block_sparse_moe.gate.weight")).asFloatBuffer();
            float[][] out = new float[EXPERTS][HIDDEN];
            for (int e = 0; e < EXPERTS; e++) {
                b.get(out[e]);
            }
            return out;
        }
    }

    private static SafetensorsWriter.Tensor random(SplittableRandom r, String name, float scale, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return new SafetensorsWriter.Tensor(name, TensorDType.F32, new long[] {rows, cols}, () -> v);
    }

    private static SafetensorsWriter.Tensor ones(String name, int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return new SafetensorsWriter.Tensor(name, TensorDType.F32, new long[] {n}, () -> v);
    }
}
