package io.moeagent.host.io;

import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.tokenizer.TextTokenizer;

import java.nio.file.Path;

/** A loaded model checkpoint: its config, its weights (read on demand) and its tokenizer. */
public final class Checkpoint implements AutoCloseable {
    private final String modelId;
    private final Path directory;
    private final ModelConfig config;
    private final WeightSource weights;
    private final TextTokenizer tokenizer;
    private final boolean chatModel;

    public Checkpoint(String modelId, Path directory, ModelConfig config, WeightSource weights,
                      TextTokenizer tokenizer, boolean chatModel) {
        this.modelId = modelId;
        this.directory = directory;
        this.config = config;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.chatModel = chatModel;
    }

    /** {@code gsm8k-tiny}, {@code synthetic:tiny}, {@code synthetic:qwen1.5-moe-a2.7b}, or the directory's name. */
    public String modelId() {
        return modelId;
    }

    /** The folder the files came from; null for a checkpoint made in memory. */
    public Path directory() {
        return directory;
    }

    public ModelConfig config() {
        return config;
    }

    public WeightSource weights() {
        return weights;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** Token ids that end a generation: generation_config.json's, else config.json's. */
    public int[] eosTokenIds() {
        return config.eosTokenIds().clone();
    }

    /** True when prompts should be wrapped in the chat template ({@link TextTokenizer#formatPrompt}). */
    public boolean chatModel() {
        return chatModel;
    }

    @Override
    public void close() {
        try {
            weights.close();
        } finally {
            tokenizer.close();
        }
    }
}
