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

    /** A cut in the first of two cycle files: its complete records, then every record of the next file. */
    @Test
    void readingGoesOnInTheNextCycleFileAfterACut() throws Exception {
        Path q = tmp.resolve("two-cycles");
        net.openhft.chronicle.core.time.SetTimeProvider clock =
                new net.openhft.chronicle.core.time.SetTimeProvider(1_700_000_000_000L);
        long run = 99;
        int steps = 200;
        try (net.openhft.chronicle.queue.ChronicleQueue cq = net.openhft.chronicle.queue.impl.single
                .SingleChronicleQueueBuilder.binary(q).rollCycle(net.openhft.chronicle.queue.rollcycles.TestRollCycles
                        .TEST_SECONDLY).timeProvider(clock).build();
             net.openhft.chronicle.queue.ExcerptAppender a = cq.createAppender()) {
            io.moeagent.format.RouteRecordWriter w = new io.moeagent.format.RouteRecordWriter(a);
            w.writeMeta(TestQueues.meta(io.moeagent.format.RouteFormat.SCHEMA_VERSION, 64, 8, new int[] {0})
                    .withRun(run, "h"));
            for (int s = 0; s < 2 * steps; s++) {
                if (s == steps) {
                    clock.advanceMillis(1000);
                }
                int tokens = 16;
                long[] req = new long[tokens];
                int[] pos = new int[tokens];
                for (int i = 0; i < tokens; i++) {
                    req[i] = i;
                    pos[i] = s;
                }
                w.writeStep(run, s, io.moeagent.format.RouteFormat.PHASE_DECODE, tokens, req, pos, null, null);
                int[] ids = new int[tokens * 8];
                float[] wt = new float[tokens * 8];
                TestQueues.fillRoutes(new java.util.Random(s), 64, 8, tokens, ids, wt);
                w.writeRoute(run, s, 0, tokens, 8, ids, wt, false);
            }
        }
        List<Path> files;
        try (Stream<Path> st = Files.list(q)) {
            files = st.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
        assertEquals(2, files.size(), files.toString());
        try (FileChannel ch = FileChannel.open(files.get(0), StandardOpenOption.WRITE)) {
            ch.truncate(650_001); // TEST_SECONDLY files have their first record at ~512 KB
        }
        Path out = tmp.resolve("two-cycles.jsonl");
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", out.toString());
        assertEquals(ExitCodes.OK, r.code(), r.err());
        assertTrue(r.err().contains(files.get(0).getFileName() + " is cut short at 650001 bytes"), r.err());
        List<String> lines = Files.readAllLines(out);
        long secondCycle = lines.stream().filter(l -> l.matches(".*\"token_idx\":(2[0-9][0-9]|3[0-9][0-9]),.*")).count();
        assertEquals(16L * steps, secondCycle, "every row of the second file");
        assertTrue(lines.size() - 1 - secondCycle > 0 && lines.size() - 1 - secondCycle < 16L * steps,
                () -> "a part of the first file: " + (lines.size() - 1 - secondCycle));
    }
}
