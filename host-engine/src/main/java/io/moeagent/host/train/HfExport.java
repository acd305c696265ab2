package io.moeagent.host.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.io.BundledCheckpoints;
import io.moeagent.host.io.ConfigWriter;
import io.moeagent.host.io.Qwen2MoeTensors;
import io.moeagent.host.io.SafetensorsWeightSource;
import io.moeagent.host.io.SafetensorsWriter;
import io.moeagent.host.io.TensorDType;
import io.moeagent.host.model.ModelConfig;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a trained model as a Hugging Face checkpoint folder: config.json, generation_config.json,
 * model.safetensors (BF16, HF tensor names), tokenizer.json, tokenizer_config.json (ChatML template), plus
 * {@value #MANIFEST} with every file's SHA-256 and how it was trained. Written into a temporary sibling folder and
 * renamed over the target, so the folder is whole or absent.
 */
public final class HfExport {
    public static final String MANIFEST = BundledCheckpoints.MANIFEST;
    public static final List<String> FILES = BundledCheckpoints.FILES;
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfExport() {
    }

    static void write(Path target, TrainableMoe model, Path tokenizerDirectory, ObjectNode training)
            throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temp = Files.createTempDirectory(parent, target.getFileName() + ".tmp-");
        try {
            ModelConfig c = model.config();
            ConfigWriter.write(temp, c, "bfloat16");
            Map<String, float[]> tensors = model.hfTensors();
            List<SafetensorsWriter.Tensor> list = new ArrayList<>();
            for (Qwen2MoeTensors.Spec s : Qwen2MoeTensors.all(c)) {
                float[] values = tensors.get(s.name());
                list.add(new SafetensorsWriter.Tensor(s.name(), TensorDType.BF16, s.shape(), () -> values));
            }
            SafetensorsWriter.write(temp.resolve(SafetensorsWeightSource.SINGLE_FILE), list,
                    Map.of("moe_trained", "io.moeagent.host.train"));
            Files.copy(tokenizerDirectory.resolve("tokenizer.json"), temp.resolve("tokenizer.json"));
            Files.copy(tokenizerDirectory.resolve("tokenizer_config.json"), temp.resolve("tokenizer_config.json"));
            ObjectNode manifest = JSON.createObjectNode();
            ObjectNode sums = manifest.putObject("sha256");
            for (Map.Entry<String, String> e : sha256(temp).entrySet()) {
                sums.put(e.getKey(), e.getValue());
            }
            manifest.set("training", training);
            Files.writeString(temp.resolve(MANIFEST), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(manifest));
            if (Files.exists(target)) {
                TrainState.deleteRecursively(target);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            TrainState.deleteRecursively(temp);
        }
    }

    /** SHA-256 of each of {@link #FILES} in {@code directory}. */
    public static Map<String, String> sha256(Path directory) throws IOException {
        Map<String, String> sums = new TreeMap<>();
        for (String name : FILES) {
            try (InputStream in = Files.newInputStream(directory.resolve(name))) {
                sums.put(name, sha256(in));
            }
        }
        return sums;
    }

    public static String sha256(InputStream in) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (DigestInputStream d = new DigestInputStream(in, digest)) {
                d.transferTo(java.io.OutputStream.nullOutputStream());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
