package io.moeagent.agent.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.fixture.FixtureRouter;
import io.moeagent.agent.fixture.FixtureStep;
import io.moeagent.agent.support.Routes;
import io.moeagent.config.AgentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import net.openhft.chronicle.queue.ChronicleQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 9 item 1, in-process parts (the full disk itself is FullDiskIT, on a real tmpfs with the real host). */
class DiskGuardTest {
    @TempDir
    Path dir;

    @Test
    void tooLittleFreeSpaceRefusesBeforeAnythingIsMapped() throws Exception {
        Path q = dir.resolve("q");
        IOException e = assertThrows(IOException.class, () -> DiskGuard.beforeOpen(q, Long.MAX_VALUE / 4,
                AgentConfig.DEFAULT_ROLL_CYCLE));
        assertTrue(e.getMessage().startsWith("only ") && e.getMessage().contains(" free on the file system of " + q),
                e.getMessage());
        try (var s = Files.list(q)) {
            assertEquals(0, s.count(), "no queue file created");
        }
    }

    @Test
    void aGuardedQueueAllocatesAheadAndRecordsAsBefore() throws Exception {
        AgentConfig c = AgentConfig.parse("pointcut.class=" + FixtureRouter.class.getName() + ",queue=" + dir
                + ",min-free-space=0", null, dir);
        DiskGuard guard = DiskGuard.beforeOpen(c.queueDir(), c.minFreeSpace(), c.rollCycle());
        ChronicleQueue q = QueueFiles.open(c.queueDir(), c.rollCycle(), 0, guard);
        RouteRecorder r = new RouteRecorder(c, q, "test", guard);
        FixtureRouter router = new FixtureRouter(0, 4);
        for (long s = 0; s < 2000; s++) {
            FixtureStep st = new FixtureStep(s, false, 25, new long[25], new int[25], Map.of());
            r.onSelection(router, st, router.selectExperts(null, st));
        }
        assertTrue(r.isRecording());
        assertTrue(r.stopAndDrain(1000));
        q.close();
        Routes routes = Routes.read(dir);
        assertEquals(2000, routes.routeRecords);
        assertEquals(0, routes.skipped);
    }
}
