package io.moeagent.analyzer.analyses;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moeagent.analyzer.Cli;
import io.moeagent.analyzer.RouteFixtures;
import io.moeagent.analyzer.source.TokenTexts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token texts from the real Qwen tokenizer in the shared data folder, ../shared/data from the repository root (skipped when it is absent). */
class TokenTextsTest {
    static final Path QWEN = Path.of("../../shared/data/qwen-tokenizer/tokenizer.json");

    @TempDir
    Path tmp;

    @Test
    void qwenByteLevelPiecesReadAsText() {
        assumeTrue(Files.isRegularFile(QWEN), "no " + QWEN + " (shared data absent)");
        TokenTexts t = TokenTexts.read(QWEN);
        assertEquals(" the", t.text(279));
        assertEquals("hello", t.text(14990));
        assertEquals("\n", t.text(198));
        assertEquals("\u4f60\u597d", t.text(108386));
        assertEquals("<|im_start|>", t.text(151644));
        assertNull(t.text(999_999));
        assertEquals("\" the\"", TokenTexts.label(t, 279));
        assertEquals("\"\\n\"", TokenTexts.label(t, 198));
        assertEquals("#999999", TokenTexts.label(t, 999_999));
    }

    @Test
    void statsShowsTokenTexts() {
        assumeTrue(Files.isRegularFile(QWEN), "no " + QWEN + " (shared data absent)");
        Path q = tmp.resolve("q");
        try (RouteFixtures f = RouteFixtures.open(q, 4, 1, new int[] {0})) {
            f.step(true, new long[] {0, 0, 0}, new int[] {0, 1, 2}, new int[] {279, 279, 198}, new int[] {0},
                    new int[][] {{3, 3, 1}});
        }
        Cli.Result r = Cli.run("stats", "--queue", q.toString(), "--tokenizer", QWEN.toString(), "--min-count", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("3 \" the\" 100.00% (2/2)"), r.out());
        assertTrue(r.out().contains("texts from " + QWEN), r.out());
    }

    @Test
    void missingTokenizerIsOneMessage() {
        Path q = tmp.resolve("q2");
        try (RouteFixtures f = RouteFixtures.open(q, 4, 1, new int[] {0})) {
            f.step(true, new long[] {0}, new int[] {0}, new int[] {5}, new int[] {0}, new int[][] {{1}});
        }
        Cli.Result r = Cli.run("stats", "--queue", q.toString(), "--tokenizer", tmp.resolve("none.json").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no tokenizer file"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        Path bad = tmp.resolve("bad.json");
        try {
            Files.writeString(bad, "{not json");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Cli.Result m = Cli.run("stats", "--queue", q.toString(), "--tokenizer", bad.toString());
        assertEquals(2, m.code());
        assertTrue(m.err().contains("not a tokenizer.json (malformed JSON at line 1"), m.err());
        assertEquals(1, m.err().lines().count(), m.err());
    }
}
