package io.moeagent.host.serve;

import io.moeagent.host.cli.CliHarness;
import io.moeagent.host.io.Checkpoint;
import io.moeagent.host.io.CheckpointLoader;
import io.moeagent.host.tokenizer.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streaming text pieces and stop strings over the real byte-level BPE tokenizer of synthetic:tiny. */
class IncrementalTextTest {
    private static Checkpoint checkpoint;
    private static TextTokenizer tokenizer;

    @BeforeAll
    static void load() {
        checkpoint = CheckpointLoader.load("synthetic:tiny", CliHarness.CACHE);
        tokenizer = checkpoint.tokenizer();
    }

    @AfterAll
    static void close() {
        checkpoint.close();
    }

    /** Feeds {@code text}'s tokens; returns the pieces joined by '|' and the final state. */
    private static IncrementalText feed(String text, List<String> stops, StringBuilder pieces) {
        IncrementalText out = new IncrementalText(tokenizer, stops);
        for (long id : tokenizer.encode(text)) {
            String piece = out.add(id);
            assertFalse(piece.contains("\uFFFD"), "a piece with an undecoded byte: " + piece);
            pieces.append(piece);
            if (out.stopped()) {
                break;
            }
        }
        pieces.append(out.finish());
        return out;
    }

    @Test
    void piecesAddUpToTheWholeTextAcrossMultiByteCharacters() {
        String text = "Tom has 3 apples — and 2 pears, naïve 😀 café.";
        long[] ids = tokenizer.encode(text);
        StringBuilder pieces = new StringBuilder();
        IncrementalText out = feed(text, List.of(), pieces);
        assertEquals(tokenizer.decode(ids), pieces.toString());
        assertEquals(pieces.toString(), out.text());
        assertEquals(ids.length, out.tokens());
        assertFalse(out.stopped());
    }

    @Test
    void stopStringsEndTheTextBeforeThemEvenAcrossTokens() {
        String text = "Tom has 3 apples. Then he ate one.";
        for (String stop : List.of("apples", "s 3 a", ".", " Then he")) {
            StringBuilder pieces = new StringBuilder();
            IncrementalText out = feed(text, List.of("never there", stop), pieces);
            assertTrue(out.stopped(), stop);
            assertEquals(text.substring(0, text.indexOf(stop)), pieces.toString(), "stop '" + stop + "'");
            assertEquals(pieces.toString(), out.text());
            assertTrue(out.tokens() <= tokenizer.encode(text).length);
        }
    }

    @Test
    void aPartialStopIsHeldBackThenReleased() {
        StringBuilder pieces = new StringBuilder();
        IncrementalText out = feed("one two thr", List.of("three"), pieces);
        assertFalse(out.stopped());
        assertEquals("one two thr", pieces.toString(), "held-back text comes out at the end");
    }
}
