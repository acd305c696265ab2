package io.moeagent.host.tokenizer;

import io.moeagent.host.io.ModelLoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The real Qwen tokenizer from the shared data folder (skipped where that folder is absent). */
class HfTextTokenizerTest {
    static final Path QWEN = Path.of("../../shared/data/qwen-tokenizer");
    static final long IM_START = 151644;
    static final long IM_END = 151645;

    static HfTextTokenizer qwen(boolean chat) {
        assumeTrue(Files.isRegularFile(QWEN.resolve("tokenizer.json")),
                "real Qwen tokenizer not found at " + QWEN.toAbsolutePath() + "; skipping");
        return HfTextTokenizer.load(QWEN, chat);
    }

    @Test
    void encodesLikeTheReferenceTokenizer() {
        try (HfTextTokenizer t = qwen(false)) {
            assertArrayEquals(new long[] {45, 4212, 685, 6088, 26111, 311, 220, 19, 23, 315, 1059, 4780, 304, 5813},
                    t.encode("Natalia sold clips to 48 of her friends in April"));
        }
    }

    @Test
    void chatPromptUsesChatMlSpecialTokens() {
        try (HfTextTokenizer t = qwen(true)) {
            String prompt = t.formatPrompt("Hi");
            assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                    + "<|im_start|>assistant\n", prompt);
            long[] ids = t.encode(prompt);
            // "system" "\n" "You" " are" " a" " helpful" " assistant" "." ; "user" "\n" "Hi" ; "assistant" "\n"
            long[] expected = {IM_START, 8948, 198, 2610, 525, 264, 10950, 17847, 13, IM_END, 198,
                    IM_START, 872, 198, 13048, IM_END, 198, IM_START, 77091, 198};
            assertArrayEquals(expected, ids, Arrays.toString(ids));
            assertEquals("system\nYou are a helpful assistant.\nuser\nHi\nassistant\n", t.decode(ids),
                    "decode drops the special tokens");
        }
    }

    @Test
    void plainModelLeavesThePromptAlone() {
        try (HfTextTokenizer t = qwen(false)) {
            assertEquals("Hi there", t.formatPrompt("Hi there"));
        }
    }

    @Test
    void longTextIsNotTruncated() {
        try (HfTextTokenizer t = qwen(false)) {
            String text = " apple".repeat(2000);
            long[] ids = t.encode(text);
            assertEquals(2000, ids.length);
            assertEquals(text, t.decode(ids));
        }
    }

    @Test
    void missingTokenizerFileIsAClearError(@TempDir Path dir) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfTextTokenizer.load(dir, false));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void damagedTokenizerFileIsAClearError(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": 42}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfTextTokenizer.load(dir, false));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
    }
}
