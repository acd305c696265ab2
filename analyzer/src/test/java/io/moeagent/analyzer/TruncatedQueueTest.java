package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cycle file cut short ({@code truncate -s N q/<cycle>.cq4}, as a full disk or a partial copy leaves it): every
 * command reads the records the file really holds, reports the cut, and never crashes on the missing pages.
 */
class TruncatedQueueTest {
    @TempDir
    static Path tmp;
    static Path full;
    static long fullLines;

    @BeforeAll
    static void writeQueue() throws Exception {
        full = tmp.resolve("full");
        // ~1.3 MB of records: 16 requests, 4 layers, top-8 of 64, 300 steps
        TestQueues.writeRunV2(full, 0x1234_5678_9abc_def0L, 64, 8, new int[] {0, 1, 2, 3}, 16, 32, 300, 7);
        Cli.Result r = Cli.run("export", "--queue", full.toString(), "--out", tmp.resolve("full.jsonl").toString());
        assertEquals(0, r.code(), r.err());
        fullLines = Files.lines(tmp.resolve("full.jsonl")).count();
    }

    static Path cycleFile(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> cq4 = s.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertEquals(1, cq4.size(), cq4.toString());
            return cq4.get(0);
        }
    }

    static Path cutCopy(long size) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("cut-" + size));
        try (Stream<Path> s = Files.list(full)) {
            for (Path p : s.toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        try (FileChannel ch = FileChannel.open(cycleFile(dir), StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
        return dir;
    }

    @Test
    void everyCommandReadsWhatACutFileHoldsAndReportsTheCut() throws Exception {
        long previous = -1;
        for (long cut : new long[] {4096, 65_536, 300_001, 700_000, 1 << 20}) {
            Path q = cutCopy(cut);
            Path out = tmp.resolve("cut-" + cut + ".jsonl");
            Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", out.toString());
            assertFalse(r.err().contains("\tat "), () -> "cut " + cut + ": " + r.err());
            if (cut <= 65_536) {
                // cut inside the file's header and index (the first record starts past 64 KB): nothing survives
                assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
                assertTrue(r.err().contains("cut short at " + cut + " bytes, before its first record"), r.err());
                assertFalse(Files.exists(out));
                continue;
            }
            assertEquals(ExitCodes.OK, r.code(), () -> "cut " + cut + ": " + r.out() + r.err());
            assertTrue(r.err().contains("cut short at " + cut + " bytes"), () -> "cut " + cut + ": " + r.err());
            long lines = Files.lines(out).count();
            assertTrue(lines > previous && lines < fullLines, () -> "cut " + cut + ": " + lines + " of " + fullLines);
            previous = lines;
            // the lines exported are exactly the first lines of the full export
            List<String> all = Files.readAllLines(tmp.resolve("full.jsonl"));
            assertEquals(all.subList(0, (int) lines), Files.readAllLines(out));
            Cli.Result s = Cli.run("stats", "--queue", q.toString());
            assertEquals(ExitCodes.OK, s.code(), () -> "cut " + cut + ": " + s.err());
            assertTrue(s.err().contains("cut short at " + cut + " bytes"), s.err());
            Cli.Result v = Cli.run("validate", out.toString());
            assertEquals(ExitCodes.OK, v.code(), v.out() + v.err());
        }
    }
}
