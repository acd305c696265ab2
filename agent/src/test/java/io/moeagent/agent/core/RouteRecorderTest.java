package io.moeagent.agent.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.fixture.FixtureRouter;
import io.moeagent.agent.fixture.FixtureSelection;
import io.moeagent.agent.fixture.FixtureStep;
import io.moeagent.agent.support.Routes;
import io.moeagent.config.AgentConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import net.openhft.chronicle.queue.ChronicleQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recorder in-process, called as the advice would call it, against a real queue. */
class RouteRecorderTest {
    @TempDir
    Path dir;

    private RouteRecorder recorder(String options, ChronicleQueue[] queue) throws Exception {
        AgentConfig c = AgentConfig.parse("pointcut.class=" + FixtureRouter.class.getName() + ",queue=" + dir
                + (options.isEmpty() ? "" : "," + options), null, dir);
        queue[0] = QueueFiles.open(c.queueDir(), c.rollCycle(), c.retention());
        return new RouteRecorder(c, queue[0], "test");
    }

    private static FixtureStep step(long id, int tokens) {
        long[] req = new long[tokens];
        int[] pos = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            req[i] = i;
            pos[i] = (int) id;
        }
        return new FixtureStep(id, id == 0, tokens, req, pos, Map.of("model_id", "m", "num_layers", "2"));
    }

    @Test
    void stepRecordOnlyWhenTheStepIdChanges() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("", q);
        FixtureRouter[] routers = {new FixtureRouter(0, 2), new FixtureRouter(1, 2)};
        for (long s = 0; s < 3; s++) {
            FixtureStep st = step(s, 3);
            for (FixtureRouter router : routers) {
                r.onSelection(router, st, router.selectExperts(null, st));
            }
        }
        q[0].close();
        Routes routes = Routes.read(dir);
        assertEquals(1, routes.metas.size());
        assertEquals(3, routes.steps.size());
        assertEquals(6, routes.routeRecords);
        assertEquals(18, routes.rows.size());
        assertEquals(2, routes.metas.get(0).numLayers());
    }

    @Test
    void byteCapStopsRecordingOnce() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("max-bytes=2k", q);
        FixtureRouter router = new FixtureRouter(0, 4);
        String err = captureErr(() -> {
            for (long s = 0; s < 50; s++) {
                FixtureStep st = step(s, 5);
                r.onSelection(router, st, router.selectExperts(null, st));
            }
        });
        q[0].close();
        assertFalse(r.isRecording());
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("moe-agent: max-bytes=2048 reached"), err);
        assertTrue(Routes.read(dir).routeRecords < 50);
    }

    @Test
    void unusableSelectionStopsRecordingWithoutThrowing() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("", q);
        FixtureStep st = step(0, 4);
        FixtureSelection broken = new FixtureSelection(4, 2, new int[3], new float[8]);
        String err = captureErr(() -> r.onSelection(new FixtureRouter(0, 2), st, broken));
        String err2 = captureErr(() -> r.onSelection(new FixtureRouter(0, 2), st, "not a selection"));
        q[0].close();
        assertFalse(r.isRecording());
        assertTrue(err.contains("layer 0 returned an unusable selection"), err);
        assertEquals("", err2, "one line only");
    }

    @Test
    void hotPathAllocatesNothingAfterWarmUp() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("", q);
        FixtureRouter[] routers = new FixtureRouter[4];
        FixtureSelection[] selections = new FixtureSelection[4];
        FixtureStep[] steps = {step(1, 25), step(2, 25)};
        for (int l = 0; l < 4; l++) {
            routers[l] = new FixtureRouter(l, 4);
            selections[l] = routers[l].selectExperts(null, steps[0]);
        }
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        int calls = 0;
        for (int i = 0; i < 20_000; i++) {
            r.onSelection(routers[i % 4], steps[(i / 4) & 1], selections[i % 4]);
        }
        int n = 200_000;
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) {
            r.onSelection(routers[i % 4], steps[(i / 4) & 1], selections[i % 4]);
            calls++;
        }
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        assertTrue(r.isRecording());
        q[0].close();
        // one object per call would be >= 16 bytes x 200k = 3.2 MB; what remains (seen: 3-31 KB, not growing
        // with the number of calls) is Chronicle mapping the next chunk of the cycle file
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated over " + calls + " recorded calls");
    }

    /** Issue 9: tokens * k beyond Integer.MAX_VALUE used to wrap negative and pass the array-length check. */
    @Test
    void rowsTimesKThatOverflowsAnIntIsRefusedNotRead() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("pointcut.tokens=return.tokens", q);
        FixtureStep st = step(0, 4);
        // 1_073_741_824 * 4 = 2^32: as an int, 0, which every array "covers"
        FixtureSelection huge = new FixtureSelection(1 << 30, 4, new int[8], new float[8]);
        String err = captureErr(() -> r.onSelection(new FixtureRouter(0, 4), st, huge));
        q[0].close();
        assertFalse(r.isRecording());
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains("unusable selection"), err);
        assertEquals(0, Routes.read(dir).routeRecords);
    }

    /** Issue 9: the meta record was written whatever max-bytes said; now it counts like every record. */
    @Test
    void theMetaRecordCountsAgainstTheCaps() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("max-bytes=200", q);
        FixtureStep st = step(0, 2);
        FixtureRouter router = new FixtureRouter(0, 2);
        String err = captureErr(() -> r.onSelection(router, st, router.selectExperts(null, st)));
        q[0].close();
        assertTrue(err.startsWith("moe-agent: max-bytes=200 reached"), err);
        Routes routes = Routes.read(dir);
        assertEquals(0, routes.metas.size(), "the meta record is larger than 200 bytes");
        assertEquals(0, routes.routeRecords);
    }

    /**
     * Issue 9: detach waits for calls in flight, then closes the appenders and lets go of them. The call is held
     * inside the recorder by a stderr that blocks while the recorder reports the call's broken selection.
     */
    @Test
    void stopAndDrainWaitsForACallInFlight() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("", q);
        FixtureStep st = step(0, 2);
        FixtureRouter router = new FixtureRouter(0, 2);
        r.onSelection(router, st, router.selectExperts(null, st));
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        PrintStream old = System.err;
        System.setErr(new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, true));
        Thread host = new Thread(() -> r.onSelection(router, st, new FixtureSelection(2, 2, new int[1], null)));
        try {
            host.start();
            assertTrue(inside.await(10, java.util.concurrent.TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            assertFalse(r.stopAndDrain(200), "a call is still inside: nothing may be closed");
            assertTrue(System.nanoTime() - t0 >= 200_000_000L, "waited for it");
            release.countDown();
            assertTrue(r.stopAndDrain(5_000));
            host.join();
        } finally {
            release.countDown();
            System.setErr(old);
        }
        q[0].close();
        assertEquals(1, Routes.read(dir).routeRecords);
    }

    /**
     * Issue 9: the appenders were collected and never closed, and a host thread's thread-local kept its appender,
     * and through it the closed queue, reachable after detach.
     */
    @Test
    void afterDetachAHostThreadKeepsNeitherAppenderNorQueueReachable() throws Exception {
        ChronicleQueue[] q = new ChronicleQueue[1];
        RouteRecorder r = recorder("", q);
        FixtureStep st = step(0, 2);
        FixtureRouter router = new FixtureRouter(0, 2);
        r.onSelection(router, st, router.selectExperts(null, st));   // this (live) thread now has an appender
        assertTrue(r.stopAndDrain(1000));
        q[0].close();
        assertFalse(r.isRecording());
        java.lang.ref.WeakReference<ChronicleQueue> queue = new java.lang.ref.WeakReference<>(q[0]);
        q[0] = null;
        // the agent drops the recorder at detach; this thread, which recorded, lives on with its thread-local
        r = null;
        for (int i = 0; i < 50 && queue.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(queue.get() == null, "the closed queue is still reachable from this thread's thread-local");
    }

    private static String captureErr(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }
}
