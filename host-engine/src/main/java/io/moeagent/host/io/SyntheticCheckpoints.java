package io.moeagent.host.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.prompts.Prompts;
import io.moeagent.host.tokenizer.ByteLevelBpeTrainer;
import io.moeagent.host.tokenizer.HfTextTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The project's synthetic checkpoints. {@code synthetic:tiny} is written as real Hugging Face files (BF16
 * safetensors, config, generation config, a trained byte-level BPE tokenizer with a chat template) into a cache
 * folder, then loaded like any downloaded checkpoint. {@code synthetic:qwen1.5-moe-a2.7b} has the reference
 * model's exact shape and draws its weights on the device at load time.
 */
public final class SyntheticCheckpoints {
    public static final String TINY = "synthetic:tiny";
    public static final String QWEN_A27B = "synthetic:qwen1.5-moe-a2.7b";
    public static final long SEED = 20240328L;
    public static final String TINY_DIRECTORY = "synthetic-tiny";
    /** Written last into a finished checkpoint folder; a folder with another stamp is from an older version. */
    static final String STAMP_FILE = "moe-synthetic.json";
    /** Bump whenever the tiny checkpoint's bytes would change. */
    static final int TINY_FORMAT_VERSION = 3;
    static final int TINY_MERGES = 400;

    private static final ObjectMapper JSON = new ObjectMapper();

    private SyntheticCheckpoints() {
    }

    /** {@code $MOE_CACHE_DIR}, else {@code ~/.cache/moe-agent}. */
    public static Path defaultCacheDirectory() {
        String env = System.getenv("MOE_CACHE_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "moe-agent");
    }

    /** The tiny checkpoint's shape, for a tokenizer of {@code vocabulary}. */
    public static ModelConfig tinyConfig(ByteLevelBpeTrainer.Vocabulary vocabulary) {
        int endOfText = vocabulary.specialId(ByteLevelBpeTrainer.END_OF_TEXT);
        int imEnd = vocabulary.specialId(ByteLevelBpeTrainer.IM_END);
        return new ModelConfig(ConfigLoader.MODEL_TYPE, 256, 8, 8, 4, 512, 128, 512, 60, 4, false, 1, new int[0],
                1_000_000.0, 1e-6, vocabulary.size(), false, endOfText, new int[] {imEnd, endOfText}, 4096);
    }

    /** Qwen1.5-MoE-A2.7B-Chat's shape. */
    public static ModelConfig qwenA27bConfig() {
        return new ModelConfig(ConfigLoader.MODEL_TYPE, 2048, 24, 16, 16, 5632, 1408, 5632, 60, 4, false, 1,
                new int[0], 1_000_000.0, 1e-6, 151936, false, 151643, new int[] {151645}, 8192);
    }

    /** The tokenizer's training text: the built-in prompts and the chat template's fixed words. */
    static ByteLevelBpeTrainer.Vocabulary tinyVocabulary() {
        List<String> corpus = new ArrayList<>(Prompts.builtIn());
        corpus.add("system\n" + HfTextTokenizer.SYSTEM_PROMPT);
        corpus.add("user\n");
        corpus.add("assistant\n");
        return ByteLevelBpeTrainer.train(corpus, TINY_MERGES);
    }

    /** The tiny checkpoint's folder under {@code cacheDirectory}, written first if absent or stale. */
    public static Path ensureTiny(Path cacheDirectory) {
        Path target = cacheDirectory.resolve(TINY_DIRECTORY);
        String stamp = tinyStamp();
        if (hasStamp(target, STAMP_FILE, stamp)) {
            return target;
        }
        try {
            Files.createDirectories(cacheDirectory);
            Path temp = Files.createTempDirectory(cacheDirectory, TINY_DIRECTORY + ".tmp-");
            try {
                writeTiny(temp);
                Files.writeString(temp.resolve(STAMP_FILE), stamp);
                publish(temp, target, STAMP_FILE, stamp);
            } finally {
                deleteRecursively(temp);
            }
            return target;
        } catch (IOException e) {
            throw new ModelLoadException("cannot write the synthetic checkpoint into " + cacheDirectory + ": " + e
                    + "; set MOE_CACHE_DIR to a writable folder", e);
        }
    }

    /**
     * Renames the finished {@code temp} folder to {@code target} atomically. If another JVM got there first with
     * the same stamp, its copy is used; a stale copy is moved aside first (open mappings of it stay valid).
     */
    static void publish(Path temp, Path target, String stampFile, String stamp) throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the cache folder's file system cannot rename folders atomically", e);
            } catch (FileSystemException e) {
                // Linux reports a non-empty target as a plain FileSystemException ("Directory not empty")
                if (!Files.exists(target)) {
                    throw e;
                }
                if (hasStamp(target, stampFile, stamp)) {
                    return;
                }
                Path stale = target.resolveSibling(target.getFileName() + ".stale-" + UUID.randomUUID());
                try {
                    Files.move(target, stale, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileSystemException movedByOther) {
                    continue; // someone else moved or replaced it meanwhile: look again
                }
                deleteRecursively(stale);
            }
        }
        if (!hasStamp(target, stampFile, stamp)) {
            throw new IOException("could not install " + target + " (other processes keep replacing it)");
        }
    }

    static String tinyStamp() {
        ObjectNode n = JSON.createObjectNode();
        n.put("checkpoint", TINY);
        n.put("format_version", TINY_FORMAT_VERSION);
        n.put("seed", SEED);
        return n.toString();
    }

    static boolean hasStamp(Path directory, String stampFile, String stamp) {
        try {
            return Files.isRegularFile(directory.resolve(stampFile))
                    && Files.readString(directory.resolve(stampFile)).equals(stamp);
        } catch (IOException e) {
            return false;
        }
    }

    /** Writes every file of the tiny checkpoint into {@code directory}. */
    static void writeTiny(Path directory) throws IOException {
        ByteLevelBpeTrainer.Vocabulary vocabulary = tinyVocabulary();
        ModelConfig config = tinyConfig(vocabulary);
        Files.writeString(directory.resolve(HfTextTokenizer.TOKENIZER_FILE),
                ByteLevelBpeTrainer.tokenizerJson(vocabulary));
        Files.writeString(directory.resolve(CheckpointLoader.TOKENIZER_CONFIG_FILE), tokenizerConfig(vocabulary));
        ConfigWriter.write(directory, config, "bfloat16");
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (Qwen2MoeTensors.Spec s : Qwen2MoeTensors.all(config)) {
            tensors.add(new SafetensorsWriter.Tensor(s.name(), TensorDType.BF16, s.shape(),
                    () -> SyntheticInit.values(config, s.name(), s.shape(), SEED)));
        }
        SafetensorsWriter.write(directory.resolve(SafetensorsWeightSource.SINGLE_FILE), tensors,
                Map.of("moe_synthetic", TINY));
    }

    /** Qwen's ChatML template and special tokens, as transformers writes them. */
    public static String tokenizerConfig(ByteLevelBpeTrainer.Vocabulary vocabulary) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("tokenizer_class", "PreTrainedTokenizerFast");
        n.put("model_max_length", 4096);
        n.putNull("bos_token");
        n.put("eos_token", ByteLevelBpeTrainer.IM_END);
        n.put("pad_token", ByteLevelBpeTrainer.END_OF_TEXT);
        ObjectNode decoder = n.putObject("added_tokens_decoder");
        for (String special : ByteLevelBpeTrainer.SPECIAL_TOKENS) {
            ObjectNode t = decoder.putObject(Integer.toString(vocabulary.specialId(special)));
            t.put("content", special);
            t.put("lstrip", false);
            t.put("normalized", false);
            t.put("rstrip", false);
            t.put("single_word", false);
            t.put("special", true);
        }
        n.put("chat_template", "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                + "{{ '<|im_start|>system\\n" + HfTextTokenizer.SYSTEM_PROMPT + "<|im_end|>\\n' }}{% endif %}"
                + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
                + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a leftover temp file in the cache is harmless
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // same
        }
    }
}
