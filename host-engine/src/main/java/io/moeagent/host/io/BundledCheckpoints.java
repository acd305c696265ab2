package io.moeagent.host.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Checkpoints shipped inside the host jar. {@code gsm8k-tiny} (the default model) is a Qwen2-MoE the project
 * trained on GSM8K's train split with {@code host.jar train}; its Hugging Face files are unpacked into
 * {@code $MOE_CACHE_DIR/gsm8k-tiny} on first use (each file checked against the SHA-256 in its manifest, the folder
 * renamed into place whole) and then loaded like any downloaded checkpoint.
 */
public final class BundledCheckpoints {
    public static final String GSM8K_TINY = "gsm8k-tiny";
    /** Written by the trainer next to the HF files: every file's SHA-256 and how the model was trained. */
    public static final String MANIFEST = "moe-checkpoint.json";
    public static final List<String> FILES = List.of("config.json", "generation_config.json", "model.safetensors",
            "tokenizer.json", "tokenizer_config.json");
    static final String RESOURCE_ROOT = "/io/moeagent/host/models/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private BundledCheckpoints() {
    }

    /** The unpacked folder of bundled model {@code name} under {@code cacheDirectory}, unpacked first if needed. */
    public static Path ensure(String name, Path cacheDirectory) {
        String manifest = resourceText(name, MANIFEST);
        Path target = cacheDirectory.resolve(name);
        if (SyntheticCheckpoints.hasStamp(target, MANIFEST, manifest)) {
            return target;
        }
        try {
            Files.createDirectories(cacheDirectory);
            Path temp = Files.createTempDirectory(cacheDirectory, name + ".tmp-");
            try {
                JsonNode sums = JSON.readTree(manifest).get("sha256");
                for (String file : FILES) {
                    String expected = sums == null || sums.get(file) == null ? null : sums.get(file).asText();
                    try (InputStream in = open(name, file);
                         DigestInputStream digest = new DigestInputStream(in, MessageDigest.getInstance("SHA-256"))) {
                        Files.copy(digest, temp.resolve(file));
                        String actual = HexFormat.of().formatHex(digest.getMessageDigest().digest());
                        if (!actual.equals(expected)) {
                            throw new ModelLoadException("the bundled model " + name + "'s " + file + " has SHA-256 "
                                    + actual + ", its manifest says " + expected + "; the host jar is damaged,"
                                    + " rebuild it");
                        }
                    }
                }
                Files.writeString(temp.resolve(MANIFEST), manifest);
                SyntheticCheckpoints.publish(temp, target, MANIFEST, manifest);
            } finally {
                SyntheticCheckpoints.deleteRecursively(temp);
            }
            return target;
        } catch (IOException e) {
            throw new ModelLoadException("cannot unpack the bundled model " + name + " into " + cacheDirectory + ": "
                    + e + "; set MOE_CACHE_DIR to a writable folder", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InputStream open(String name, String file) {
        InputStream in = BundledCheckpoints.class.getResourceAsStream(RESOURCE_ROOT + name + "/" + file);
        if (in == null) {
            throw new ModelLoadException("the host jar holds no " + file + " for the bundled model " + name
                    + "; the jar is incomplete, rebuild it with mvn package");
        }
        return in;
    }

    private static String resourceText(String name, String file) {
        try (InputStream in = open(name, file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + " of the bundled model " + name + " from the host jar", e);
        }
    }
}
