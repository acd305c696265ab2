package io.moeagent.format;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaV2RoundTripTest {
    @TempDir
    Path dir;

    static final long RUN = 0x8badf00d12345678L;

    static MetaRecord meta(long runId) {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("z", "ü-last-inserted-first");
        extra.put("a", "second");
        return new MetaRecord(RouteFormat.SCHEMA_VERSION, "0.2.0", "gsm8k-tiny", "moe-host", "0.2.0", "2.7.1",
                "17.0.15", "cpu", "float32", 1234L, 4, 60, 4, new int[] {0, 1, 2, 3}, "queue=moe-routes",
                1_700_000_000_000L, 42L, extra, runId, "host-a");
    }

    /** Everything a visitor saw, copied. */
    static final class Seen implements RecordVisitor {
        final List<MetaRecord> metas = new ArrayList<>();
        final List<StepRecord> steps = new ArrayList<>();
        final List<Object[]> routes = new ArrayList<>();
        final List<StatsRecord> stats = new ArrayList<>();
        final List<Long> statsRuns = new ArrayList<>();

        @Override
        public void onMeta(MetaRecord m, long index) {
            metas.add(m);
        }

        @Override
        public void onStep(StepRecord s, long index) {
            steps.add(s.copy());
        }

        @Override
        public void onRoute(RouteRecord r, long index) {
            int n = r.tokens() * r.k();
            routes.add(new Object[] {r.runId(), r.stepId(), r.layer(), r.tokens(), r.k(),
                    Arrays.copyOf(r.expertIds(), n), r.hasWeights() ? Arrays.copyOf(r.weights(), n) : null,
                    r.engineOrder()});
        }

        @Override
        public void onStats(StatsRecord s, long runId, long index) {
            stats.add(s);
            statsRuns.add(runId);
        }
    }

    Seen readAll(RouteQueueReader r) {
        Seen seen = new Seen();
        r.readAll(seen);
        return seen;
    }

    @Test
    void everyRecordTypeSurvivesTheQueueBitExact() {
        long[] reqs = {7, 7, 9};
        int[] pos = {0, 1, 5};
        int[] tok = {151644, 872, 13};
        byte[] phases = {RouteFormat.PHASE_PREFILL, RouteFormat.PHASE_PREFILL, RouteFormat.PHASE_DECODE};
        int[] ids = {3, 1, 59, 0, 4, 5, 6, 7, 10, 11, 12, 13};
        float[] w = {0.5f, 0.2f, 0.1f, Float.MIN_VALUE, 0.4f, 0.3f, 0.2f, 0.1f, 0.25f, 0.25f, 0.25f, 1e-5f};
        StatsRecord stats = new StatsRecord(RouteFormat.STATS_EXIT, 1_700_000_001_000L, 5_000_000_000L, 800, 700,
                190_000, 750, 600_000, 1, 2, 3, Map.of("spin_nanos", 0L));
        long[] sizes = new long[5];
        try (ChronicleQueue q = ChronicleQueue.singleBuilder(dir).build();
             ExcerptAppender a = q.createAppender()) {
            RouteRecordWriter w2 = new RouteRecordWriter(a);
            sizes[0] = w2.writeMeta(meta(RUN));
            sizes[1] = w2.writeStep(RUN, 11L, RouteFormat.PHASE_MIXED, 3, reqs, pos, tok, phases);
            sizes[2] = w2.writeRoute(RUN, 11L, 2, 3, 4, ids, w, false);
            sizes[3] = w2.writeRoute(RUN, 11L, 3, 3, 4, ids, null, true);
            sizes[4] = w2.writeStats(RUN, stats);
            // a step without the optional arrays, and a record far larger than the writer's first buffer
            w2.writeStep(RUN, 12L, RouteFormat.PHASE_DECODE, 2, reqs, pos, null, null);
            int[] big = new int[5000 * 4];
            Arrays.setAll(big, i -> i % 60);
            w2.writeRoute(RUN, 12L, 0, 5000, 4, big, null, false);
        }
        assertEquals(RouteFormat.stepRecordBytes(3, true, true) + RouteFormat.DOCUMENT_HEADER, sizes[1]);
        assertEquals(RouteFormat.routeRecordBytes(3, 4, true) + RouteFormat.DOCUMENT_HEADER, sizes[2]);
        try (RouteQueueReader r = RouteQueueReader.open(dir)) {
            Seen seen = readAll(r);
            assertEquals(0, r.skippedRecords());
            assertEquals(0, r.corruptRecords());
            assertEquals(List.of(meta(RUN)), seen.metas);
            assertEquals("host-a", seen.metas.get(0).host());
            StepRecord s = seen.steps.get(0);
            assertEquals(RUN, s.runId());
            assertEquals(11L, s.stepId());
            assertEquals(RouteFormat.PHASE_MIXED, s.phase());
            assertFalse(s.prefill());
            assertTrue(s.hasTokenIds() && s.hasRowPhases());
            assertArrayEquals(reqs, Arrays.copyOf(s.requestIds(), 3));
            assertArrayEquals(pos, Arrays.copyOf(s.positions(), 3));
            assertArrayEquals(tok, Arrays.copyOf(s.tokenIds(), 3));
            assertTrue(s.rowPrefill(0) && s.rowPrefill(1) && !s.rowPrefill(2));
            StepRecord plain = seen.steps.get(1);
            assertFalse(plain.hasTokenIds() || plain.hasRowPhases());
            assertEquals(RouteFormat.PHASE_DECODE, plain.rowPhase(1));
            Object[] r1 = seen.routes.get(0);
            assertEquals(RUN, r1[0]);
            assertEquals(2, r1[2]);
            assertArrayEquals(ids, (int[]) r1[5]);
            float[] back = (float[]) r1[6];
            for (int i = 0; i < w.length; i++) {
                assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(back[i]), "weight " + i);
            }
            assertEquals(false, r1[7]);
            Object[] r2 = seen.routes.get(1);
            assertNull(r2[6]);
            assertEquals(true, r2[7]);
            assertEquals(5000, seen.routes.get(2)[3]);
            assertEquals(List.of(stats), seen.stats);
            assertEquals(List.of(RUN), seen.statsRuns);
            assertEquals(190_000.0 / 800, seen.stats.get(0).nanosPerCall(), 1e-9);
        }
    }

    @Test
    void bothSchemasInOneQueueKeepTheirRunsApart() {
        int[] ids = {1, 2};
        try (ChronicleQueue q = ChronicleQueue.singleBuilder(dir).build();
             ExcerptAppender a = q.createAppender()) {
            SchemaV1Writer.writeMeta(a, RouteFormatRoundTripTest.sampleMeta());
            SchemaV1Writer.writeStep(a, 0L, true, new long[] {0}, new int[] {0}, 1);
            SchemaV1Writer.writeRoute(a, 0L, 0, 1, 2, ids, null);
            RouteRecordWriter w2 = new RouteRecordWriter(a);
            w2.writeMeta(meta(RUN));
            w2.writeStep(RUN, 0L, RouteFormat.PHASE_PREFILL, 1, new long[] {0}, new int[] {0}, null, null);
            w2.writeRoute(RUN, 0L, 0, 1, 2, ids, null, false);
        }
        try (RouteQueueReader r = RouteQueueReader.open(dir)) {
            Seen seen = readAll(r);
            assertEquals(2, seen.metas.size());
            assertEquals(RouteFormat.SCHEMA_V1, seen.metas.get(0).schemaVersion());
            assertEquals(0L, seen.metas.get(0).runId());
            assertEquals(RouteFormat.SCHEMA_VERSION, seen.metas.get(1).schemaVersion());
            assertEquals(RouteFormat.joinKey(0, 0), RouteFormat.joinKey(seen.steps.get(0).runId(), 0));
            assertNotEquals(RouteFormat.joinKey((Long) seen.routes.get(0)[0], 0),
                    RouteFormat.joinKey((Long) seen.routes.get(1)[0], 0));
        }
    }

    @Test
    void aFlippedBitIsCountedAndNeverDecoded() throws IOException {
        int[] ids = {17, 23, 42, 59};
        try (ChronicleQueue q = ChronicleQueue.singleBuilder(dir).build();
             ExcerptAppender a = q.createAppender()) {
            RouteRecordWriter w2 = new RouteRecordWriter(a);
            w2.writeStep(RUN, 0L, RouteFormat.PHASE_PREFILL, 1, new long[] {0}, new int[] {0}, null, null);
            w2.writeRoute(RUN, 0L, 0, 1, 4, ids, null, false);
            w2.writeRoute(RUN, 0L, 1, 1, 4, ids, null, false);
        }
        // find the second route's expert id 42 (little-endian) in the cycle file and flip one bit of it
        Path cq4;
        try (Stream<Path> files = Files.list(dir)) {
            cq4 = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        byte[] all = Files.readAllBytes(cq4);
        int hit = -1;
        for (int i = 0, seen = 0; i + 4 <= all.length; i++) {
            if (all[i] == 42 && all[i + 1] == 0 && all[i + 2] == 0 && all[i + 3] == 0
                    && all[i - 4] == 23 && ++seen == 2) {
                hit = i;
                break;
            }
        }
        assertTrue(hit > 0, "second route's ids found in the file");
        try (RandomAccessFile f = new RandomAccessFile(cq4.toFile(), "rw")) {
            f.seek(hit);
            f.write(42 ^ 0x10);
        }
        try (RouteQueueReader r = RouteQueueReader.open(dir)) {
            Seen seen = readAll(r);
            assertEquals(1, seen.routes.size(), "the damaged route is not decoded");
            assertEquals(0, seen.routes.get(0)[2]);
            assertEquals(1, r.corruptRecords());
        }
    }

    @Test
    void runIdsPrintAndParseAsSixteenHexDigits() {
        assertEquals("8badf00d12345678", RouteFormat.runIdText(RUN));
        assertEquals("0000000000000000", RouteFormat.runIdText(0));
        assertEquals(RUN, RouteFormat.parseRunId("8BADF00D12345678"));
        assertEquals(-1L, RouteFormat.parseRunId("ffffffffffffffff"));
        assertThrows(NumberFormatException.class, () -> RouteFormat.parseRunId("xyz"));
    }
}
