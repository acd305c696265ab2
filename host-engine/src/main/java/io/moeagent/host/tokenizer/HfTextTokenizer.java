package io.moeagent.host.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.moeagent.host.io.ModelLoadException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@link TextTokenizer} over DJL's Hugging Face tokenizer, built from a checkpoint's {@code tokenizer.json} with
 * truncation and padding off (DJL truncates to 512 tokens by default) and no special tokens added.
 */
public final class HfTextTokenizer implements TextTokenizer {
    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String SYSTEM_PROMPT = "You are a helpful assistant.";

    private final HuggingFaceTokenizer tokenizer;
    private final boolean chat;

    private HfTextTokenizer(HuggingFaceTokenizer tokenizer, boolean chat) {
        this.tokenizer = tokenizer;
        this.chat = chat;
    }

    /** Loads {@code tokenizer.json} from {@code directory}; {@code chat} selects the ChatML prompt format. */
    public static HfTextTokenizer load(Path directory, boolean chat) {
        Path file = Files.isDirectory(directory) ? directory.resolve(TOKENIZER_FILE) : directory;
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException("no " + TOKENIZER_FILE + " at " + file
                    + "; the checkpoint needs a Hugging Face fast tokenizer file");
        }
        keepDjlOffline();
        Map<String, String> options = Map.of(
                "addSpecialTokens", "false",
                "truncation", "false",
                "padding", "false");
        try {
            return new HfTextTokenizer(HuggingFaceTokenizer.newInstance(file, options), chat);
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /** DJL's tokenizer factory reports home (EC2 metadata) unless offline; the host never opens connections. */
    private static void keepDjlOffline() {
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    @Override
    public long[] encode(String text) {
        Encoding encoding = tokenizer.encode(text, false, false);
        return encoding.getIds();
    }

    @Override
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    @Override
    public String formatPrompt(String userMessage) {
        if (!chat) {
            return userMessage;
        }
        return ByteLevelBpeTrainer.IM_START + "system\n" + SYSTEM_PROMPT + ByteLevelBpeTrainer.IM_END + "\n"
                + ByteLevelBpeTrainer.IM_START + "user\n" + userMessage + ByteLevelBpeTrainer.IM_END + "\n"
                + ByteLevelBpeTrainer.IM_START + "assistant\n";
    }

    public boolean chatModel() {
        return chat;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
