package io.moeagent.host.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeagent.host.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a Hugging Face {@code config.json} of model_type {@code qwen2_moe} into a {@link ModelConfig}.
 *
 * <p>Optional fields default exactly as transformers' {@code Qwen2MoeConfig}. The fields that fix tensor shapes
 * are required even though transformers defaults them to Qwen1.5-MoE-A2.7B's values: a checkpoint's config always
 * lists them, and silently assuming the reference shapes would hide a broken or foreign file.
 */
public final class ConfigLoader {
    public static final String CONFIG_FILE = "config.json";
    public static final String GENERATION_CONFIG_FILE = "generation_config.json";
    public static final String MODEL_TYPE = "qwen2_moe";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigLoader() {
    }

    /** {@code config.json} of {@code modelDirectory}, with eos ids from {@code generation_config.json} when present. */
    public static ModelConfig load(Path modelDirectory) {
        Path configFile = modelDirectory.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(configFile)) {
            throw new ModelLoadException("no " + CONFIG_FILE + " in " + modelDirectory
                    + "; point --model at a Hugging Face model directory");
        }
        JsonNode config = readJson(configFile);
        int[] eos = null;
        Path generationFile = modelDirectory.resolve(GENERATION_CONFIG_FILE);
        if (Files.isRegularFile(generationFile)) {
            JsonNode generation = readJson(generationFile);
            if (generation.has("eos_token_id") && !generation.get("eos_token_id").isNull()) {
                eos = tokenIds(generationFile, "eos_token_id", generation.get("eos_token_id"));
            }
        }
        return parse(configFile, config, eos);
    }

    /** Parses {@code config}; {@code eosOverride} (from generation_config.json) wins over the config's own eos. */
    public static ModelConfig parse(Path file, JsonNode config, int[] eosOverride) {
        Fields f = new Fields(file, config);
        String modelType = f.requiredText("model_type");
        if (!MODEL_TYPE.equals(modelType)) {
            throw new ModelLoadException(file + ": model_type is \"" + modelType + "\"; this host runs only \""
                    + MODEL_TYPE + "\" (Qwen1.5-MoE / Qwen2-MoE) checkpoints");
        }
        String act = f.optionalText("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new ModelLoadException(file + ": hidden_act \"" + act + "\" is not supported (only silu)");
        }
        JsonNode ropeScaling = config.get("rope_scaling");
        if (ropeScaling != null && !ropeScaling.isNull()) {
            String type = ropeScaling.path("rope_type").asText(ropeScaling.path("type").asText("default"));
            if (!type.equals("default")) {
                throw new ModelLoadException(file + ": rope_scaling of type \"" + type + "\" is not supported");
            }
        }
        int hidden = f.requiredPositiveInt("hidden_size");
        int layers = f.requiredPositiveInt("num_hidden_layers");
        int heads = f.requiredPositiveInt("num_attention_heads");
        int kvHeads = f.optionalInt("num_key_value_heads", 16);
        int intermediate = f.optionalInt("intermediate_size", 5632);
        int moeIntermediate = f.requiredPositiveInt("moe_intermediate_size");
        int sharedIntermediate = f.requiredInt("shared_expert_intermediate_size");
        int experts = f.requiredPositiveInt("num_experts");
        int topK = f.requiredPositiveInt("num_experts_per_tok");
        boolean normTopk = f.optionalBoolean("norm_topk_prob", false);
        int sparseStep = f.optionalInt("decoder_sparse_step", 1);
        int[] mlpOnly = f.optionalIntArray("mlp_only_layers");
        double ropeTheta = f.optionalDouble("rope_theta", ropeThetaFromParameters(config, 10000.0));
        double eps = f.optionalDouble("rms_norm_eps", 1e-6);
        int vocab = f.requiredPositiveInt("vocab_size");
        boolean tie = f.optionalBoolean("tie_word_embeddings", false);
        int bos = config.hasNonNull("bos_token_id") ? f.requiredInt("bos_token_id") : -1;
        int[] eos = eosOverride != null ? eosOverride
                : config.hasNonNull("eos_token_id") ? tokenIds(file, "eos_token_id", config.get("eos_token_id"))
                : new int[0];
        int maxPositions = f.optionalInt("max_position_embeddings", 32768);

        if (hidden % heads != 0) {
            throw new ModelLoadException(file + ": hidden_size " + hidden + " is not a multiple of num_attention_heads "
                    + heads);
        }
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new ModelLoadException(file + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (topK > experts) {
            throw new ModelLoadException(file + ": num_experts_per_tok " + topK + " exceeds num_experts " + experts);
        }
        if (sparseStep <= 0) {
            throw new ModelLoadException(file + ": decoder_sparse_step must be positive, is " + sparseStep);
        }
        for (int id : eos) {
            if (id < 0 || id >= vocab) {
                throw new ModelLoadException(file + ": eos_token_id " + id + " is outside the vocabulary (0.."
                        + (vocab - 1) + ")");
            }
        }
        return new ModelConfig(modelType, hidden, layers, heads, kvHeads, intermediate, moeIntermediate,
                sharedIntermediate, experts, topK, normTopk, sparseStep, mlpOnly, ropeTheta, eps, vocab, tie, bos, eos,
                maxPositions);
    }

    /** transformers 5 moved rope_theta into a rope_parameters object. */
    private static double ropeThetaFromParameters(JsonNode config, double fallback) {
        JsonNode params = config.get("rope_parameters");
        if (params != null && params.hasNonNull("rope_theta") && params.get("rope_theta").isNumber()) {
            return params.get("rope_theta").asDouble();
        }
        return fallback;
    }

    static int[] tokenIds(Path file, String field, JsonNode node) {
        if (node.isIntegralNumber()) {
            return new int[] {node.asInt()};
        }
        if (node.isArray()) {
            int[] ids = new int[node.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!node.get(i).isIntegralNumber()) {
                    throw new ModelLoadException(file + ": " + field + " must be an integer or a list of integers, is "
                            + node);
                }
                ids[i] = node.get(i).asInt();
            }
            return ids;
        }
        throw new ModelLoadException(file + ": " + field + " must be an integer or a list of integers, is " + node);
    }

    private static JsonNode readJson(Path file) {
        try {
            JsonNode node = JSON.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new ModelLoadException(file + " is not a JSON object; the file is damaged, download it again");
            }
            return node;
        } catch (IOException e) {
            throw new ModelLoadException(file + " is not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + "); the file is damaged, download it again", e);
        }
    }

    /** Typed access to the config's fields, every error naming the file and the field. */
    private static final class Fields {
        private final Path file;
        private final JsonNode config;

        Fields(Path file, JsonNode config) {
            this.file = file;
            this.config = config;
        }

        private JsonNode required(String field) {
            JsonNode node = config.get(field);
            if (node == null || node.isNull()) {
                throw new ModelLoadException(file + ": required field \"" + field + "\" is missing");
            }
            return node;
        }

        String requiredText(String field) {
            JsonNode node = required(field);
            if (!node.isTextual()) {
                throw wrongType(field, "a string", node);
            }
            return node.asText();
        }

        String optionalText(String field, String fallback) {
            return config.hasNonNull(field) ? requiredText(field) : fallback;
        }

        int requiredInt(String field) {
            JsonNode node = required(field);
            if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                throw wrongType(field, "an integer", node);
            }
            return node.asInt();
        }

        int requiredPositiveInt(String field) {
            int value = requiredInt(field);
            if (value <= 0) {
                throw new ModelLoadException(file + ": field \"" + field + "\" must be positive, is " + value);
            }
            return value;
        }

        int optionalInt(String field, int fallback) {
            return config.hasNonNull(field) ? requiredInt(field) : fallback;
        }

        boolean optionalBoolean(String field, boolean fallback) {
            if (!config.hasNonNull(field)) {
                return fallback;
            }
            JsonNode node = config.get(field);
            if (!node.isBoolean()) {
                throw wrongType(field, "true or false", node);
            }
            return node.asBoolean();
        }

        double optionalDouble(String field, double fallback) {
            if (!config.hasNonNull(field)) {
                return fallback;
            }
            JsonNode node = config.get(field);
            if (!node.isNumber()) {
                throw wrongType(field, "a number", node);
            }
            return node.asDouble();
        }

        int[] optionalIntArray(String field) {
            if (!config.hasNonNull(field)) {
                return new int[0];
            }
            JsonNode node = config.get(field);
            if (!node.isArray()) {
                throw wrongType(field, "a list of integers", node);
            }
            int[] values = new int[node.size()];
            for (int i = 0; i < values.length; i++) {
                if (!node.get(i).isIntegralNumber()) {
                    throw wrongType(field, "a list of integers", node);
                }
                values[i] = node.get(i).asInt();
            }
            return values;
        }

        private ModelLoadException wrongType(String field, String expected, JsonNode actual) {
            return new ModelLoadException(file + ": field \"" + field + "\" must be " + expected + ", is " + actual);
        }
    }
}
