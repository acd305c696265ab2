package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import io.moeagent.format.RouteFormat;
import io.moeagent.format.SchemaV1Writer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of bad input: exit 2, one clear line on stderr, a stack trace only with --verbose. */
class BadInputTest {
    @TempDir
    Path tmp;

    static void assertOneClearError(Cli.Result r, String expected) {
        assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(expected), () -> "expected '" + expected + "' in:\n" + r.err());
        assertFalse(r.err().contains("\tat "), () -> "stack trace without --verbose:\n" + r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void missingQueueDirectory() {
        assertOneClearError(Cli.run("export", "--queue", tmp.resolve("nope").toString(), "--out",
                tmp.resolve("o.jsonl").toString()), "does not exist");
        assertOneClearError(Cli.run("stats", "--queue", tmp.resolve("nope").toString()), "does not exist");
    }

    @Test
    void emptyQueueDirectory() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertOneClearError(Cli.run("stats", "--queue", empty.toString()), "no queue files");
    }

    @Test
    void aFileGivenAsQueue() throws Exception {
        Path f = Files.writeString(tmp.resolve("x.jsonl"), "{}\n");
        assertOneClearError(Cli.run("stats", "--queue", f.toString()), "is a file, not a queue directory");
    }

    @Test
    void aDirectoryGivenAsJsonl() throws Exception {
        assertOneClearError(Cli.run("stats", tmp.toString()), "is a directory; to read a queue use --queue");
    }

    @Test
    void unknownSchemaVersion() {
        Path q = tmp.resolve("q");
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            SchemaV1Writer.writeMeta(a, TestQueues.meta(RouteFormat.SCHEMA_VERSION + 1, 8, 2, new int[] {0}));
        }
        assertOneClearError(Cli.run("export", "--queue", q.toString(), "--out", tmp.resolve("o").toString()),
                "schema version " + (RouteFormat.SCHEMA_VERSION + 1));
    }

    @Test
    void aQueueOfSomethingElse() {
        Path q = tmp.resolve("q");
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            try (DocumentContext dc = a.writingDocument()) {
                dc.wire().bytes().writeUtf8("hello from another application");
            }
        }
        Cli.Result r = Cli.run("stats", "--queue", q.toString());
        assertOneClearError(r, "not a moe-agent route queue");
    }

    @Test
    void aQueueWithoutMetaRecord() {
        Path q = tmp.resolve("q");
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            SchemaV1Writer.writeStep(a, 1, true, new long[] {0}, new int[] {0}, 1);
        }
        assertOneClearError(Cli.run("stats", "--queue", q.toString()), "holds no meta record");
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            SchemaV1Writer.writeRoute(a, 1, 0, 1, 2, new int[] {0, 1}, null);
        }
        assertOneClearError(Cli.run("stats", "--queue", q.toString()), "before any meta record");
    }

    @Test
    void garbageCq4FileIsNotAQueue() throws Exception {
        Path q = Files.createDirectories(tmp.resolve("q"));
        Files.write(q.resolve("20260101.cq4"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Cli.Result r = Cli.run("stats", "--queue", q.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("not Chronicle Queue files written by moe-agent"), r.err());
    }

    @Test
    void aRecordCutShortIsSkippedAndCounted() {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 8, 2, new int[] {0, 1}, 1, 3, 2, true, 1);
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            SchemaV1Writer.writeStep(a, 77, false, new long[] {0}, new int[] {4}, 1);
            try (DocumentContext dc = a.writingDocument()) {
                dc.wire().bytes().writeByte(RouteFormat.TYPE_ROUTE_V1).writeLong(77).writeInt(0).writeInt(1);
            }
        }
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", tmp.resolve("o.jsonl").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("exported " + (4 * 2) + " route lines"), r.out());
        assertTrue(r.err().contains("1 records cut short"), r.err());
        assertTrue(r.err().contains("1 steps lack route records"), r.err());
    }

    @Test
    void aTruncatedQueueFileIsReadUpToItsLastCompleteRecord() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 60, 4, new int[] {0, 1}, 5, 20, 30, true, 1);
        Path cq4;
        try (var s = Files.list(q)) {
            cq4 = s.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        byte[] all = Files.readAllBytes(cq4);
        int end = all.length;
        while (end > 0 && all[end - 1] == 0) {
            end--;
        }
        try (FileChannel ch = FileChannel.open(cq4, StandardOpenOption.WRITE)) {
            ch.truncate(end - 3000);
        }
        Cli.Result r = Cli.run("stats", "--queue", q.toString());
        assertEquals(0, r.code(), r.err());
        long full = 5L * (20 + 29) * 2;
        String rows = r.out().lines().filter(l -> l.startsWith("== all phases")).findFirst().orElseThrow();
        long read = Long.parseLong(rows.replaceAll("== all phases: ([0-9,]+) rows.*", "$1").replace(",", ""));
        assertTrue(read > 0 && read < full, rows);
        assertTrue(r.err().contains("steps lack route records"), r.err());
    }

    @Test
    void malformedJsonl() throws Exception {
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, ValidateTest.META + "\n{\"type\":\"route\",\"layer\":0,\n");
        assertOneClearError(Cli.run("stats", f.toString()), "line 2: malformed JSON");
        assertOneClearError(Cli.run("plot", f.toString(), "--out", tmp.resolve("p.png").toString()),
                "malformed JSON");
    }

    @Test
    void emptyJsonl() throws Exception {
        Path f = Files.writeString(tmp.resolve("empty.jsonl"), "");
        assertOneClearError(Cli.run("stats", f.toString()), "is empty");
    }

    @Test
    void jsonlThatIsNotAnExport() throws Exception {
        Path f = Files.writeString(tmp.resolve("other.jsonl"), "{\"hello\":1}\n");
        assertOneClearError(Cli.run("stats", f.toString()), "expected {\"type\":\"meta\"");
    }

    @Test
    void verboseAddsTheStackTrace() {
        Cli.Result r = Cli.run("stats", "--queue", tmp.resolve("nope").toString(), "--verbose");
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void usageErrorsAndHelp() {
        Cli.Result none = Cli.run();
        assertEquals(ExitCodes.BAD_INPUT, none.code());
        Cli.Result unknown = Cli.run("stats", "--bogus");
        assertEquals(ExitCodes.BAD_INPUT, unknown.code());
        assertTrue(unknown.err().contains("--bogus"), unknown.err());
        for (String cmd : new String[] {"export", "validate", "stats", "plot", "follow", "merge", "compare"}) {
            Cli.Result help = Cli.run(cmd, "--help");
            assertEquals(0, help.code(), cmd);
            assertTrue(help.out().contains("Usage: analyzer " + cmd), help.out());
        }
        assertTrue(Cli.run("--help").out().contains("Commands:"));
        // a stray '%' in a description makes picocli print the raw text and a warning
        assertTrue(Cli.run("compare", "--help").out().contains("a 95 % bootstrap interval"));
    }
}
