package io.moeagent.host.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.tokenizer.ByteLevelBpeTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.*;

class SyntheticCheckpointTest {
    @TempDir
    static Path cache;

    static Path tinyDirectory;

    @BeforeAll
    static void writeOnce() {
        tinyDirectory = SyntheticCheckpoints.ensureTiny(cache);
    }

    @Test
    void tinyCheckpointLoadsThroughTheSamePathAsADownload() {
        try (Checkpoint checkpoint = CheckpointLoader.load(SyntheticCheckpoints.TINY, cache)) {
            assertEquals(SyntheticCheckpoints.TINY, checkpoint.modelId());
            assertEquals(tinyDirectory, checkpoint.directory());
            ModelConfig c = checkpoint.config();
            assertEquals(256, c.hiddenSize());
            assertEquals(8, c.numHiddenLayers());
            assertEquals(8, c.numAttentionHeads());
            assertEquals(4, c.numKeyValueHeads());
            assertEquals(60, c.numExperts());
            assertEquals(4, c.numExpertsPerTok());
            assertEquals(128, c.moeIntermediateSize());
            assertEquals(512, c.sharedExpertIntermediateSize());
            assertEquals(1e6, c.ropeTheta());
            assertFalse(c.normTopkProb());
            assertFalse(c.tieWordEmbeddings());
            assertTrue(checkpoint.chatModel());
            ByteLevelBpeTrainer.Vocabulary vocabulary = SyntheticCheckpoints.tinyVocabulary();
            assertEquals(vocabulary.size(), c.vocabSize());
            assertArrayEquals(new int[] {vocabulary.specialId(ByteLevelBpeTrainer.IM_END),
                    vocabulary.specialId(ByteLevelBpeTrainer.END_OF_TEXT)}, checkpoint.eosTokenIds());

            SafetensorsWeightSource weights = (SafetensorsWeightSource) checkpoint.weights();
            int expected = 0;
            for (Qwen2MoeTensors.Spec spec : Qwen2MoeTensors.all(c)) {
                SafetensorsFile.TensorInfo info = weights.info(spec.name());
                assertNotNull(info, spec.name());
                assertArrayEquals(spec.shape(), info.shape(), spec.name());
                assertEquals(TensorDType.BF16, info.dtype(), spec.name());
                expected++;
            }
            assertEquals(expected, weights.names().size(), "no tensors beyond the expected ones");
            assertEquals(1 + 8 * (9 + 1 + 180 + 4) + 2, expected);

            try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
                NDArray norm = weights.load("model.layers.3.input_layernorm.weight", manager, DataType.FLOAT32, 256);
                assertArrayEquals(filled(256, 1f), norm.toFloatArray());
                String gate = "model.layers.0.mlp.gate.weight";
                NDArray router = weights.load(gate, manager, DataType.FLOAT32, 60, 256);
                float[] expectedValues = SyntheticInit.values(c, gate, new long[] {60, 256}, SyntheticCheckpoints.SEED);
                float[] actual = router.toFloatArray();
                for (int i = 0; i < actual.length; i++) {
                    assertEquals(FloatConversions.bf16ToF32(FloatConversions.f32ToBf16(expectedValues[i])), actual[i]);
                }
            }
        }
    }

    @Test
    void tinyBytesAreDeterministicAndReusedWhenStamped() throws Exception {
        Path other = Files.createTempDirectory(cache, "second");
        Path again = SyntheticCheckpoints.ensureTiny(other);
        for (String file : new String[] {"model.safetensors", "tokenizer.json", "config.json",
                "tokenizer_config.json", "generation_config.json"}) {
            assertEquals(sha256(tinyDirectory.resolve(file)), sha256(again.resolve(file)), file);
        }
        long modified = Files.getLastModifiedTime(tinyDirectory.resolve("model.safetensors")).toMillis();
        assertEquals(tinyDirectory, SyntheticCheckpoints.ensureTiny(cache));
        assertEquals(modified, Files.getLastModifiedTime(tinyDirectory.resolve("model.safetensors")).toMillis());
    }

    @Test
    void staleCheckpointIsReplaced() throws Exception {
        Path other = Files.createTempDirectory(cache, "stale");
        Path target = other.resolve(SyntheticCheckpoints.TINY_DIRECTORY);
        Files.createDirectories(target);
        Files.writeString(target.resolve(SyntheticCheckpoints.STAMP_FILE), "{\"format_version\":0}");
        Files.writeString(target.resolve("config.json"), "{}");
        Path result = SyntheticCheckpoints.ensureTiny(other);
        assertEquals(target, result);
        assertEquals(sha256(tinyDirectory.resolve("config.json")), sha256(result.resolve("config.json")));
        try (var list = Files.list(other)) {
            assertEquals(1, list.count(), "temp and stale folders are cleaned up");
        }
    }

    /** Two JVMs writing the same cache folder at once both end up using one complete, identical checkpoint. */
    @Test
    void twoJvmsWritingAtOnceAgree() throws Exception {
        Path other = Files.createTempDirectory(cache, "race");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process[] processes = new Process[2];
        for (int i = 0; i < 2; i++) {
            processes[i] = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    EnsureTinyMain.class.getName(), other.toString())
                    .redirectErrorStream(true).start();
        }
        String[] outputs = new String[2];
        for (int i = 0; i < 2; i++) {
            outputs[i] = new String(processes[i].getInputStream().readAllBytes()).strip();
            assertEquals(0, processes[i].waitFor(), outputs[i]);
        }
        Path target = other.resolve(SyntheticCheckpoints.TINY_DIRECTORY);
        assertEquals(target.toString(), outputs[0]);
        assertEquals(target.toString(), outputs[1]);
        assertEquals(sha256(tinyDirectory.resolve("model.safetensors")), sha256(target.resolve("model.safetensors")));
        try (var list = Files.list(other)) {
            assertEquals(1, list.count(), "no temp folders left behind");
        }
    }

    /** The entry point of the racing JVMs: prints the folder it got. */
    public static final class EnsureTinyMain {
        public static void main(String[] args) {
            System.out.println(SyntheticCheckpoints.ensureTiny(Path.of(args[0])));
        }
    }

    static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
