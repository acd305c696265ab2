package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records damaged on disk (a flipped bit; a record zero-filled, as pages a full disk never backed read back) fail
 * their checksum: counted and reported by export and stats, never exported or tallied.
 */
class DamagedRecordsTest {
    /** Weights no other record holds, to find route 1's bytes in the cycle file. */
    static final float[] MARKED = {0.8125f, 0.0625f};

    @TempDir
    Path tmp;

    Path queue() {
        Path q = tmp.resolve("q");
        long run = 77;
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            RouteRecordWriter w = new RouteRecordWriter(a);
            w.writeMeta(TestQueues.meta(RouteFormat.SCHEMA_VERSION, 8, 2, new int[] {0}).withRun(run, "h"));
            for (int s = 0; s < 3; s++) {
                w.writeStep(run, s, RouteFormat.PHASE_DECODE, 1, new long[] {0}, new int[] {10 + s}, null, null);
                w.writeRoute(run, s, 0, 1, 2, new int[] {1, 2}, s == 1 ? MARKED : new float[] {0.5f, 0.25f}, false);
            }
        }
        return q;
    }

    static Path cycleFile(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
    }

    /** Where the marked weights are in the file. */
    static long find(Path file) throws Exception {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer pattern = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(MARKED[0])
                .putFloat(MARKED[1]);
        outer:
        for (int i = 0; i + 8 <= all.length; i++) {
            for (int j = 0; j < 8; j++) {
                if (all[i + j] != pattern.get(j)) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("marked record not found");
    }

    static void overwrite(Path file, long at, byte[] bytes) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), at);
        }
    }

    void assertDamagedRecordIsReportedNotExported(Path q) throws Exception {
        Path out = tmp.resolve("out.jsonl");
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("1 records failed their checksum"), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(1 + 2, lines.size(), lines.toString());
        assertTrue(lines.stream().noneMatch(l -> l.contains("\"token_idx\":11,")), lines.toString());
        assertTrue(lines.stream().noneMatch(l -> l.contains("[0,0]")), lines.toString());
        assertEquals(0, Cli.run("validate", out.toString()).code());
        Cli.Result s = Cli.run("stats", "--queue", q.toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(s.err().contains("1 records failed their checksum"), s.err());
        assertTrue(s.out().contains("2 rows"), s.out());
    }

    @Test
    void aFlippedBitIsCaught() throws Exception {
        Path q = queue();
        Path f = cycleFile(q);
        long at = find(f);
        overwrite(f, at, new byte[] {(byte) (Files.readAllBytes(f)[(int) at] ^ 0x10)});
        assertDamagedRecordIsReportedNotExported(q);
    }

    @Test
    void aZeroFilledRecordIsCaught() throws Exception {
        Path q = queue();
        Path f = cycleFile(q);
        long weightsAt = find(f);
        // route record: 28-byte header, 2 ids, 2 weights, CRC; the document header word precedes it
        long start = weightsAt - 8 - RouteFormat.ROUTE_HEADER;
        overwrite(f, start, new byte[RouteFormat.ROUTE_HEADER + 16 + RouteFormat.CRC_BYTES]);
        assertDamagedRecordIsReportedNotExported(q);
    }
}
