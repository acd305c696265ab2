package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import io.moeagent.format.RouteFormat;
import io.moeagent.format.SchemaV1Writer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FollowTest {
    @TempDir
    Path tmp;

    @Test
    void followSeesRecordsAppendedWhileItRunsAndWaitsForTheQueueToAppear() throws Exception {
        Path q = tmp.resolve("late-queue");
        int steps = 40;
        int tokens = 5;
        int[] layers = {0, 1};
        CompletableFuture<Cli.Result> follow = CompletableFuture.supplyAsync(() ->
                Cli.run("follow", "--queue", q.toString(), "--interval", "200ms", "--duration", "3s"));
        // the queue appears only after follow has started, then grows step by step
        Thread.sleep(400);
        Random rnd = new Random(9);
        try (ChronicleQueue cq = TestQueues.open(q); ExcerptAppender a = cq.createAppender()) {
            SchemaV1Writer.writeMeta(a, TestQueues.meta(RouteFormat.SCHEMA_V1, 16, 2, layers));
            for (int s = 0; s < steps; s++) {
                long[] req = new long[tokens];
                int[] pos = new int[tokens];
                for (int i = 0; i < tokens; i++) {
                    req[i] = i;
                    pos[i] = s;
                }
                SchemaV1Writer.writeStep(a, s, s == 0, req, pos, tokens);
                for (int layer : layers) {
                    int[] ids = new int[tokens * 2];
                    float[] w = new float[tokens * 2];
                    TestQueues.fillRoutes(rnd, 16, 2, tokens, ids, w);
                    SchemaV1Writer.writeRoute(a, s, layer, tokens, 2, ids, w);
                }
                Thread.sleep(25);
            }
        }
        Cli.Result r = follow.get(20, TimeUnit.SECONDS);
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("waiting for a queue in " + q), out);
        assertTrue(out.contains("queue found"), out);
        long total = (long) steps * tokens * layers.length;
        assertTrue(out.contains(String.format(java.util.Locale.ROOT, "follow: done: %,d rows", total)), out);
        // at least two reports saw a different, growing number of rows: it followed, not read once at the end
        long distinct = out.lines().filter(l -> l.startsWith("[")).map(l -> l.replaceAll(".*rows ([0-9,]+) .*", "$1"))
                .distinct().count();
        assertTrue(distinct >= 3, out);
        assertTrue(out.contains(" bits ("), out);
    }

    @Test
    void aQueueThatNeverAppearsEndsCleanlyAfterTheDuration() {
        Cli.Result r = Cli.run("follow", "--queue", tmp.resolve("never").toString(), "--duration", "300ms");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("no queue appeared"), r.out());
    }

    @Test
    void badDurationIsAUsageError() {
        Cli.Result r = Cli.run("follow", "--queue", tmp.toString(), "--interval", "soon");
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("not a duration"), r.err());
    }
}
