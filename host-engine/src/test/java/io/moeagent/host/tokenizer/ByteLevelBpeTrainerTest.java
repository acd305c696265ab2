package io.moeagent.host.tokenizer;

import io.moeagent.host.prompts.Prompts;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The project's own byte-level BPE tokenizer, loaded by DJL's Hugging Face tokenizer. */
class ByteLevelBpeTrainerTest {
    @TempDir
    static Path dir;
    static ByteLevelBpeTrainer.Vocabulary vocabulary;
    static HfTextTokenizer tokenizer;

    @BeforeAll
    static void train() throws Exception {
        vocabulary = ByteLevelBpeTrainer.train(Prompts.builtIn(), 400);
        Files.writeString(dir.resolve("tokenizer.json"), ByteLevelBpeTrainer.tokenizerJson(vocabulary));
        tokenizer = HfTextTokenizer.load(dir, true);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void vocabularyHasBytesMergesAndSpecials() {
        assertTrue(vocabulary.merges().size() >= 200, "learned " + vocabulary.merges().size() + " merges");
        assertEquals(256 + vocabulary.merges().size() + 3, vocabulary.size(),
                "every merge adds a token (no duplicates in this corpus)");
        Set<String> unique = new HashSet<>(vocabulary.tokens());
        assertEquals(vocabulary.tokens().size(), unique.size());
        assertEquals("Ġ", vocabulary.tokens().get(' '));
        assertEquals("A", vocabulary.tokens().get('A'));
    }

    @Test
    void trainingIsDeterministic() {
        ByteLevelBpeTrainer.Vocabulary again = ByteLevelBpeTrainer.train(Prompts.builtIn(), 400);
        assertEquals(ByteLevelBpeTrainer.tokenizerJson(vocabulary), ByteLevelBpeTrainer.tokenizerJson(again));
    }

    @Test
    void roundTripsArbitraryText() {
        for (String text : List.of("How many apples does Omar have?", "  leading and   inner spaces\n\ttabs",
                "Zoë paid 12,50 € für Äpfel — naïve café, 日本語のテキスト, emoji 🙂🚲!", "\u0000\u007f\r\n",
                "x".repeat(3000))) {
            long[] ids = tokenizer.encode(text);
            for (long id : ids) {
                assertTrue(id >= 0 && id < vocabulary.size() - 3, "regular token id " + id);
            }
            assertEquals(text, tokenizer.decode(ids));
        }
    }

    @Test
    void mergesCompressCorpusText() {
        String text = Prompts.builtIn().get(0);
        long[] ids = tokenizer.encode(text);
        assertTrue(ids.length < text.length() / 2, ids.length + " tokens for " + text.length() + " chars");
    }

    @Test
    void specialTokensAreSingleIdsAndDroppedOnDecode() {
        long start = vocabulary.specialId(ByteLevelBpeTrainer.IM_START);
        long end = vocabulary.specialId(ByteLevelBpeTrainer.IM_END);
        long[] ids = tokenizer.encode(tokenizer.formatPrompt("Hi"));
        assertEquals(start, ids[0]);
        assertEquals(3, java.util.Arrays.stream(ids).filter(i -> i == start).count());
        assertEquals(2, java.util.Arrays.stream(ids).filter(i -> i == end).count());
        assertEquals("system\nYou are a helpful assistant.\nuser\nHi\nassistant\n", tokenizer.decode(ids));
        assertEquals("", tokenizer.decode(new long[] {vocabulary.specialId(ByteLevelBpeTrainer.END_OF_TEXT)}));
    }
}
