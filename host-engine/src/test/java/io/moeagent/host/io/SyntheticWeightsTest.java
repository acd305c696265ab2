package io.moeagent.host.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.prompts.Prompts;
import io.moeagent.host.tokenizer.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.util.Arrays;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SyntheticWeightsTest {
    static NDManager manager;

    @TempDir
    static Path cache;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void deviceDrawnWeightsAreDeterministicPerTensorAndShapedLikeTheReference() {
        ModelConfig qwen = SyntheticCheckpoints.qwenA27bConfig();
        SyntheticWeightSource source = new SyntheticWeightSource(qwen, SyntheticCheckpoints.SEED);
        String gate = "model.layers.5.mlp.gate.weight";
        String bias = "model.layers.2.self_attn.k_proj.bias";
        try (NDManager m = manager.newSubManager()) {
            NDArray first = source.load(gate, m, DataType.FLOAT32, 60, 2048);
            source.load(bias, m, DataType.FLOAT32, 2048); // moves the engine's generator on
            NDArray again = source.load(gate, m, DataType.FLOAT32, 60, 2048);
            assertArrayEquals(first.toFloatArray(), again.toFloatArray(), "independent of load order");
            NDArray other = source.load("model.layers.6.mlp.gate.weight", m, DataType.FLOAT32, 60, 2048);
            assertFalse(Arrays.equals(first.toFloatArray(), other.toFloatArray()));
            NDArray half = source.load(gate, m, DataType.FLOAT16, 60, 2048);
            assertEquals(DataType.FLOAT16, half.getDataType());
            float std = first.sub(first.mean()).pow(2).mean().sqrt().getFloat();
            assertEquals(1.0 / Math.sqrt(2048), std, 0.2 / Math.sqrt(2048), "router noise scale");
            assertArrayEquals(SyntheticCheckpointTest.filled(2048, 1f),
                    source.load("model.norm.weight", m, DataType.FLOAT32, 2048).toFloatArray());
            assertEquals(1L * 151936 * 2048, qwenTensorElements(qwen, "lm_head.weight"));
        }
        assertTrue(source.contains("model.layers.23.mlp.experts.59.down_proj.weight"));
        assertTrue(source.contains("model.layers.0.mlp.shared_expert_gate.weight"));
        assertFalse(source.contains("model.layers.24.input_layernorm.weight"));
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> source.load(gate, manager, DataType.FLOAT32, 2048, 60));
        assertTrue(e.getMessage().contains(gate));
        long total = Qwen2MoeTensors.all(qwen).stream().mapToLong(s -> SyntheticInit.product(s.shape())).sum();
        assertEquals(14_315_784_192L, total, "Qwen1.5-MoE-A2.7B has 14.3B parameters");
    }

    static long qwenTensorElements(ModelConfig c, String name) {
        return Qwen2MoeTensors.all(c).stream().filter(s -> s.name().equals(name))
                .mapToLong(s -> SyntheticInit.product(s.shape())).findFirst().orElseThrow();
    }

    /**
     * The first router of synthetic:tiny, fed the RMS-normalised embeddings of the built-in prompts (what it sees
     * before attention adds context): some experts must be clearly more popular than others, few never chosen.
     */
    @Test
    void tinyRoutersAreSkewedLikeTrainedOnes() {
        try (Checkpoint checkpoint = CheckpointLoader.load(SyntheticCheckpoints.TINY, cache);
             NDManager m = manager.newSubManager()) {
            ModelConfig c = checkpoint.config();
            TextTokenizer tokenizer = checkpoint.tokenizer();
            long[] ids = Prompts.builtIn().stream().map(p -> tokenizer.encode(tokenizer.formatPrompt(p)))
                    .flatMapToLong(Arrays::stream).toArray();
            NDArray embed = checkpoint.weights().load("model.embed_tokens.weight", m, DataType.FLOAT32,
                    c.vocabSize(), c.hiddenSize());
            NDArray h = embed.get(m.create(ids));
            NDArray normed = h.div(h.pow(2).mean(new int[] {1}, true).add(1e-6).sqrt());
            int[] counts = new int[c.numExperts()];
            for (int layer : new int[] {0, 7}) {
                NDArray gate = checkpoint.weights().load(Qwen2MoeTensors.layer(layer, "mlp.gate.weight"), m,
                        DataType.FLOAT32, c.numExperts(), c.hiddenSize());
                NDArray top = normed.matMul(gate.transpose()).softmax(1).topK(4, 1, true, true).get(1);
                for (long e : top.toLongArray()) {
                    counts[(int) e]++;
                }
            }
            int[] sorted = Arrays.stream(counts).sorted().toArray();
            double total = Arrays.stream(counts).sum();
            double topShare = sorted[sorted.length - 1] / total;
            double uniform = 1.0 / c.numExperts();
            long never = Arrays.stream(counts).filter(n -> n == 0).count();
            String spread = "tokens " + ids.length + ", shares max " + topShare + " median "
                    + sorted[sorted.length / 2] / total + " min " + sorted[0] / total + ", never chosen " + never;
            System.out.println("synthetic:tiny router spread (layers 0 and 7): " + spread);
            assertTrue(topShare > 2 * uniform, spread);
            assertTrue(never <= 3, spread);
        }
    }
}
