package io.moeagent.format;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RouteFormatRoundTripTest {
    @TempDir
    Path dir;

    static MetaRecord sampleMeta() {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("z", "last-inserted-first");
        extra.put("a", "second");
        return new MetaRecord(RouteFormat.SCHEMA_V1, "0.1.0", "synthetic:tiny", "moe-host", "0.1.0", "2.7.1",
                "17.0.15", "cpu", "float32", 1234L, 4, 60, 4, new int[] {0, 1, 2, 3}, "queue=moe-routes",
                1_700_000_000_000L, 42L, extra);
    }

    @Test
    void metaStepAndRouteSurviveTheQueue() {
        MetaRecord meta = sampleMeta();
        long[] reqs = {7, 7, 9};
        int[] pos = {0, 1, 0};
        int[] ids = {3, 1, 59, 0, 4, 5, 6, 7, 10, 11, 12, 13};
        float[] w = {0.5f, 0.2f, 0.1f, 0.05f, 0.4f, 0.3f, 0.2f, 0.1f, 0.25f, 0.25f, 0.25f, 0.25f};
        try (ChronicleQueue q = ChronicleQueue.singleBuilder(dir).build();
             ExcerptAppender a = q.createAppender()) {
            SchemaV1Writer.writeMeta(a, meta);
            SchemaV1Writer.writeStep(a, 11L, true, reqs, pos, 3);
            SchemaV1Writer.writeRoute(a, 11L, 2, 3, 4, ids, w);
            SchemaV1Writer.writeRoute(a, 11L, 3, 3, 4, ids, null);
        }
        List<Object> seen = new ArrayList<>();
        try (RouteQueueReader r = RouteQueueReader.open(dir)) {
            long n = r.readAll(new RecordVisitor() {
                @Override
                public void onMeta(MetaRecord m, long index) {
                    seen.add(m);
                }

                @Override
                public void onStep(StepRecord s, long index) {
                    seen.add(s.copy());
                }

                @Override
                public void onRoute(RouteRecord route, long index) {
                    int n = route.tokens() * route.k();
                    seen.add(new Object[] {route.stepId(), route.layer(), route.tokens(), route.k(),
                            java.util.Arrays.copyOf(route.expertIds(), n),
                            route.hasWeights() ? java.util.Arrays.copyOf(route.weights(), n) : null});
                }
            });
            assertEquals(4, n);
            assertEquals(0, r.skippedRecords());
        }
        MetaRecord back = (MetaRecord) seen.get(0);
        assertEquals(meta, back);
        assertEquals(List.of("z", "a"), new ArrayList<>(back.extra().keySet()));
        StepRecord s = (StepRecord) seen.get(1);
        assertEquals(11L, s.stepId());
        assertTrue(s.prefill());
        assertArrayEquals(reqs, java.util.Arrays.copyOf(s.requestIds(), 3));
        assertArrayEquals(pos, java.util.Arrays.copyOf(s.positions(), 3));
        Object[] r1 = (Object[]) seen.get(2);
        assertEquals(2, r1[1]);
        assertArrayEquals(ids, (int[]) r1[4]);
        assertArrayEquals(w, (float[]) r1[5]);
        Object[] r2 = (Object[]) seen.get(3);
        assertEquals(3, r2[1]);
        assertNull(r2[5]);
    }

    @Test
    void missingDirectoryIsAClearError() {
        RouteFormatException e = assertThrows(RouteFormatException.class,
                () -> RouteQueueReader.open(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
