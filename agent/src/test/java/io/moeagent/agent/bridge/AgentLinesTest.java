package io.moeagent.agent.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Issue 9: the agent's stderr lines are capped, one line, and quote what the user gave. */
class AgentLinesTest {
    @Test
    void aHugeValueGivesOneShortLine() {
        String value = "x".repeat(100_000);
        String line = AgentLines.line("option 'layers' has value " + AgentLines.quote(value) + "\nsecond line");
        assertTrue(line.length() <= AgentLines.MAX_LINE, line.length() + " chars");
        assertTrue(line.startsWith("moe-agent: option 'layers' has value 'xxx"), line);
        assertTrue(line.contains("(100000 chars)"), line);
        assertFalse(line.contains("\n"));
        assertEquals(1, line.lines().count());
    }

    @Test
    void controlCharactersAreShownNotWritten() {
        assertEquals("'a\\u000ab\\u001b[31m'", AgentLines.quote("a\nb\u001b[31m"));
        assertEquals("moe-agent: x\\u000dy", AgentLines.line("x\ry"));
        assertEquals("moe-agent: as is", AgentLines.line("moe-agent: as is"));
    }

    @Test
    void bytesReadLikePeopleWriteThem() {
        assertEquals("512 B", AgentLines.bytes(512));
        assertEquals("64 MB", AgentLines.bytes(64L << 20));
        assertEquals("1.5 KB", AgentLines.bytes(1536));
    }
}
