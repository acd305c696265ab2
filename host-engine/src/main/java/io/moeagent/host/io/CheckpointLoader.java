package io.moeagent.host.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.tokenizer.HfTextTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Opens a checkpoint from a spec: {@code gsm8k-tiny} (the default: trained by the project, shipped in the jar and
 * unpacked to the cache folder on first use, then read like a download), {@code synthetic:tiny} (random weights,
 * written to the cache folder on first use), {@code synthetic:qwen1.5-moe-a2.7b}, or a Hugging Face model directory. Weights are
 * only indexed here (headers read, every expected tensor's presence and shape checked); the model loads them.
 */
public final class CheckpointLoader {
    public static final String TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
    /** Where a real Qwen tokenizer is looked for, for synthetic:qwen1.5-moe-a2.7b (besides $MOE_QWEN_TOKENIZER). */
    static final List<String> QWEN_TOKENIZER_DIRECTORIES =
            List.of("../shared/data/qwen-tokenizer", "../../shared/data/qwen-tokenizer");

    private static final ObjectMapper JSON = new ObjectMapper();

    private CheckpointLoader() {
    }

    public static Checkpoint load(String spec) {
        return load(spec, SyntheticCheckpoints.defaultCacheDirectory());
    }

    /** As {@link #load(String)}, writing synthetic checkpoints under {@code cacheDirectory}. */
    public static Checkpoint load(String spec, Path cacheDirectory) {
        if (spec == null || spec.isBlank() || spec.equals(BundledCheckpoints.GSM8K_TINY)) {
            return loadDirectory(BundledCheckpoints.ensure(BundledCheckpoints.GSM8K_TINY, cacheDirectory),
                    BundledCheckpoints.GSM8K_TINY);
        }
        if (spec.equals(SyntheticCheckpoints.TINY)) {
            Path directory = SyntheticCheckpoints.ensureTiny(cacheDirectory);
            return loadDirectory(directory, SyntheticCheckpoints.TINY);
        }
        if (spec.equals(SyntheticCheckpoints.QWEN_A27B)) {
            return syntheticQwen(cacheDirectory);
        }
        if (spec.startsWith("synthetic:")) {
            throw new ModelLoadException("unknown synthetic model '" + spec + "'; use " + SyntheticCheckpoints.TINY
                    + " or " + SyntheticCheckpoints.QWEN_A27B + ", or a model directory");
        }
        Path directory;
        try {
            directory = Path.of(spec);
        } catch (InvalidPathException e) {
            throw new ModelLoadException("--model '" + spec + "' is neither a synthetic model nor a valid path");
        }
        if (!Files.isDirectory(directory)) {
            throw new ModelLoadException("--model '" + spec + "' is not a directory; give a Hugging Face model"
                    + " directory (config.json, model.safetensors, tokenizer.json), " + BundledCheckpoints.GSM8K_TINY
                    + " or " + SyntheticCheckpoints.TINY);
        }
        Path name = directory.toAbsolutePath().normalize().getFileName();
        return loadDirectory(directory, name == null ? spec : name.toString());
    }

    /** Reads config, indexes the safetensors and checks every expected tensor, then loads the tokenizer. */
    public static Checkpoint loadDirectory(Path directory, String modelId) {
        ModelConfig config = ConfigLoader.load(directory);
        SafetensorsWeightSource weights = SafetensorsWeightSource.open(directory);
        try {
            checkTensors(config, weights, directory);
            boolean chat = hasChatTemplate(directory);
            HfTextTokenizer tokenizer = HfTextTokenizer.load(directory, chat);
            return new Checkpoint(modelId, directory, config, weights, tokenizer, chat);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** Fails before any weight is read when a tensor the config implies is absent, mis-shaped or of a foreign type. */
    static void checkTensors(ModelConfig config, SafetensorsWeightSource weights, Path directory) {
        List<String> missing = new ArrayList<>();
        for (Qwen2MoeTensors.Spec spec : Qwen2MoeTensors.all(config)) {
            SafetensorsFile.TensorInfo info = weights.info(spec.name());
            if (info == null) {
                missing.add(spec.name());
                continue;
            }
            if (!Arrays.equals(info.shape(), spec.shape())) {
                throw new ModelLoadException("tensor '" + spec.name() + "' in " + directory + " has shape "
                        + Arrays.toString(info.shape()) + " but config.json implies " + Arrays.toString(spec.shape())
                        + "; the weights and config.json do not belong together");
            }
            if (info.dtype() == null) {
                throw new ModelLoadException("tensor '" + spec.name() + "' in " + directory + " has dtype "
                        + info.dtypeName() + "; only F32, F16 and BF16 weights are supported");
            }
        }
        if (!missing.isEmpty()) {
            throw new ModelLoadException(missing.size() + " tensor(s) missing from " + directory + ", e.g. '"
                    + missing.get(0) + "'; the download is incomplete or the checkpoint is not a Qwen2-MoE model");
        }
    }

    /** A chat model's tokenizer_config.json carries a chat_template. */
    static boolean hasChatTemplate(Path directory) {
        Path file = directory.resolve(TOKENIZER_CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try {
            JsonNode node = JSON.readTree(file.toFile());
            JsonNode template = node == null ? null : node.get("chat_template");
            return template != null && !template.isNull() && !(template.isTextual() && template.asText().isBlank());
        } catch (IOException e) {
            throw new ModelLoadException(file + " is not valid JSON; the file is damaged, download it again", e);
        }
    }

    private static Checkpoint syntheticQwen(Path cacheDirectory) {
        ModelConfig config = SyntheticCheckpoints.qwenA27bConfig();
        Path tokenizerDirectory = realQwenTokenizer();
        if (tokenizerDirectory == null) {
            // the byte-level tokenizer's ids are all far below 151936, so it can drive the full-size model
            tokenizerDirectory = SyntheticCheckpoints.ensureTiny(cacheDirectory);
        }
        HfTextTokenizer tokenizer = HfTextTokenizer.load(tokenizerDirectory, true);
        return new Checkpoint(SyntheticCheckpoints.QWEN_A27B, null, config,
                new SyntheticWeightSource(config, SyntheticCheckpoints.SEED), tokenizer, true);
    }

    /** $MOE_QWEN_TOKENIZER, else the project's shared data folder, when it holds a tokenizer.json. */
    static Path realQwenTokenizer() {
        String env = System.getenv("MOE_QWEN_TOKENIZER");
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            Path file = Files.isDirectory(p) ? p.resolve(HfTextTokenizer.TOKENIZER_FILE) : p;
            if (!Files.isRegularFile(file)) {
                throw new ModelLoadException("MOE_QWEN_TOKENIZER=" + env + " holds no " + HfTextTokenizer.TOKENIZER_FILE
                        + "; point it at a folder with Qwen's tokenizer.json, or unset it");
            }
            return p;
        }
        for (String c : QWEN_TOKENIZER_DIRECTORIES) {
            Path p = Path.of(c);
            if (Files.isRegularFile(p.resolve(HfTextTokenizer.TOKENIZER_FILE))) {
                return p;
            }
        }
        return null;
    }
}
