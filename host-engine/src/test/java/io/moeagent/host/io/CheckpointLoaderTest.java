package io.moeagent.host.io;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CheckpointLoaderTest {
    @TempDir
    static Path cache;

    @TempDir
    Path dir;

    /** A 2-layer Qwen2-MoE small enough to write in a test, with layer 0 dense, and the tiny tokenizer. */
    static ModelConfig miniConfig() {
        return new ModelConfig("qwen2_moe", 16, 2, 4, 2, 24, 8, 12, 4, 2, true, 1, new int[] {0}, 1e6, 1e-6,
                SyntheticCheckpoints.tinyVocabulary().size(), false, -1, new int[] {3}, 128);
    }

    void writeMini(ModelConfig c, boolean sharded, String skip) throws Exception {
        ConfigWriter.write(dir, c, "float16");
        Path tiny = SyntheticCheckpoints.ensureTiny(cache);
        Files.copy(tiny.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (Qwen2MoeTensors.Spec s : Qwen2MoeTensors.all(c)) {
            if (!s.name().equals(skip)) {
                tensors.add(new SafetensorsWriter.Tensor(s.name(), TensorDType.F16, s.shape(),
                        () -> SyntheticInit.values(c, s.name(), s.shape(), 7)));
            }
        }
        if (sharded) {
            SafetensorsWriter.writeSharded(dir, tensors, 4096, null);
        } else {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, null);
        }
    }

    @Test
    void shardedHuggingFaceDirectoryWithADenseLayer() throws Exception {
        ModelConfig c = miniConfig();
        writeMini(c, true, null);
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
        try (Checkpoint checkpoint = CheckpointLoader.load(dir.toString(), cache);
             NDManager m = NDManager.newBaseManager("PyTorch")) {
            assertEquals(dir.getFileName().toString(), checkpoint.modelId());
            assertEquals(dir, checkpoint.directory());
            assertFalse(checkpoint.chatModel(), "no tokenizer_config.json with a chat_template");
            assertEquals("plain", checkpoint.tokenizer().formatPrompt("plain"));
            assertTrue(checkpoint.config().normTopkProb());
            assertFalse(checkpoint.config().isMoeLayer(0));
            assertArrayEquals(new int[] {3}, checkpoint.eosTokenIds());
            assertTrue(checkpoint.weights().contains("model.layers.0.mlp.up_proj.weight"));
            assertFalse(checkpoint.weights().contains("model.layers.0.mlp.gate.weight"));
            float[] up = checkpoint.weights().load("model.layers.1.mlp.experts.3.up_proj.weight", m,
                    DataType.FLOAT32, 8, 16).toFloatArray();
            float[] expected = SyntheticInit.values(c, "model.layers.1.mlp.experts.3.up_proj.weight",
                    new long[] {8, 16}, 7);
            for (int i = 0; i < up.length; i++) {
                assertEquals(FloatConversions.f16ToF32(FloatConversions.f32ToF16(expected[i])), up[i]);
            }
        }
    }

    @Test
    void missingTensorFailsBeforeAnyWeightIsRead() throws Exception {
        writeMini(miniConfig(), false, "model.layers.1.mlp.experts.2.down_proj.weight");
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> CheckpointLoader.load(dir.toString(), cache));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.experts.2.down_proj.weight")
                && e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void weightsNotMatchingConfigAreNamed() throws Exception {
        writeMini(miniConfig(), false, null);
        Files.writeString(dir.resolve("config.json"),
                Files.readString(dir.resolve("config.json")).replace("\"moe_intermediate_size\" : 8",
                        "\"moe_intermediate_size\" : 10"));
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> CheckpointLoader.load(dir.toString(), cache));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.experts.0.gate_proj.weight")
                && e.getMessage().contains("[8, 16]") && e.getMessage().contains("[10, 16]"), e.getMessage());
    }

    @Test
    void chatTemplateMakesAChatModel() throws Exception {
        writeMini(miniConfig(), false, null);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages }}\"}");
        try (Checkpoint checkpoint = CheckpointLoader.load(dir.toString(), cache)) {
            assertTrue(checkpoint.chatModel());
            assertTrue(checkpoint.tokenizer().formatPrompt("x").startsWith("<|im_start|>system\n"));
        }
    }

    @Test
    void badSpecs() throws Exception {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> CheckpointLoader.load("synthetic:huge", cache));
        assertTrue(e.getMessage().contains("synthetic:tiny"), e.getMessage());
        Path missing = dir.resolve("no-such-model");
        e = assertThrows(ModelLoadException.class, () -> CheckpointLoader.load(missing.toString(), cache));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("not a directory"));
        e = assertThrows(ModelLoadException.class, () -> CheckpointLoader.load(dir.toString(), cache));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void syntheticReferenceShapedModel() {
        try (Checkpoint checkpoint = CheckpointLoader.load(SyntheticCheckpoints.QWEN_A27B, cache)) {
            assertNull(checkpoint.directory());
            assertEquals(SyntheticCheckpoints.QWEN_A27B, checkpoint.modelId());
            ModelConfig c = checkpoint.config();
            assertEquals(24, c.numHiddenLayers());
            assertEquals(151936, c.vocabSize());
            assertArrayEquals(new int[] {151645}, checkpoint.eosTokenIds());
            assertTrue(checkpoint.chatModel());
            assertTrue(checkpoint.weights().contains("model.layers.23.self_attn.q_proj.bias"));
            long[] ids = checkpoint.tokenizer().encode("Natalia sold clips to 48 of her friends in April");
            for (long id : ids) {
                assertTrue(id < c.vocabSize());
            }
            if (CheckpointLoader.realQwenTokenizer() != null) {
                assertEquals(45, ids[0], "the real Qwen tokenizer");
            }
            // a random model emits ids the fallback tokenizer does not know; decoding them must not fail
            checkpoint.tokenizer().decode(new long[] {ids[0], 151000, 151645});
        }
    }

    @Test
    void syntheticTinyFallbackTokenizerDecodesUnknownIds() {
        try (Checkpoint checkpoint = CheckpointLoader.load(SyntheticCheckpoints.TINY, cache)) {
            long[] ids = checkpoint.tokenizer().encode("Omar");
            assertEquals("Omar", checkpoint.tokenizer().decode(ids));
            long[] withUnknown = java.util.Arrays.copyOf(ids, ids.length + 1);
            withUnknown[ids.length] = 151000;
            assertEquals("Omar", checkpoint.tokenizer().decode(withUnknown), "unknown ids are skipped");
        }
    }
}
