package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.fixture.FixtureMain;
import io.moeagent.agent.support.Attach;
import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.StatsRecords;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteQueueReader;
import io.moeagent.format.StatsRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's own account, written into the queue by the real moe-agent.jar in forked JVMs: the closing record at
 * exit and at detach, the periodic one a kill -9 leaves behind, the drops a cap causes, and the test-only injected
 * cost.
 */
class AgentStatsIT {
    private static final String FIXTURE = "pointcut.class=io.moeagent.agent.fixture.FixtureRouter";
    private static final String MAIN = FixtureMain.class.getName();

    @TempDir
    Path work;

    /** 1 thread x 30 steps x 4 layers, layers 0-1 recorded: every count the closing record holds is known. */
    @Test
    void closingRecordAtExitCountsEveryCallAndRecord() throws Exception {
        Path queue = work.resolve("q");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",layers=0-1,queue=" + queue, List.of(),
                MAIN, "1", "30", "4", "5"), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        StatsRecords s = StatsRecords.read(queue);
        assertEquals(0, s.skipped + s.corrupt);
        assertFalse(s.entries.isEmpty(), "a stats record");
        StatsRecord last = s.last();
        assertEquals(RouteFormat.STATS_EXIT, last.reason(), "the last one closes the run");
        assertEquals(s.metaRunIds.get(0), s.entries.get(s.entries.size() - 1).runId(), "the meta record's run id");
        assertEquals(30 * 4, last.calls());
        assertEquals(30 * 2, last.recordedCalls());
        assertEquals(30 * 2, s.routes);
        // meta + steps + routes + the stats records before this one
        assertEquals(1 + s.steps + s.routes + s.entries.size() - 1, last.records());
        assertTrue(last.bytes() > s.routes * RouteFormat.routeRecordBytes(1, FixtureMain.K, true), last::toString);
        assertTrue(last.nanosInside() > 0 && last.nanosInside() < last.elapsedNanos(), last::toString);
        assertEquals(0, last.dropped());
        long buckets = last.extra().entrySet().stream().filter(e -> e.getKey().startsWith("hist."))
                .mapToLong(Map.Entry::getValue).sum();
        assertEquals(last.calls(), buckets, "every call in the histogram");
        long first = last.extra().get("first_call_nanos");
        long max = last.extra().get("max_call_nanos");
        assertTrue(first > 0 && first <= max && max <= last.nanosInside(), last::toString);
        for (int i = 1; i < s.entries.size(); i++) {
            assertTrue(s.entries.get(i).stats().calls() >= s.entries.get(i - 1).stats().calls(), "counters only grow");
        }
    }

    /** kill -9 leaves the periodic records written so far, each complete and within what the queue holds. */
    @Test
    void killMinusNineLeavesAPeriodicRecord() throws Exception {
        Path queue = work.resolve("q");
        Process p = Forked.start(Forked.fixture(Forked.JAVA, FIXTURE + ",queue=" + queue, List.of(), MAIN,
                "1", "100000", "4", "5", "5"), Map.of("MOE_ROUTE_LOG", "1"), work);
        long deadline = System.nanoTime() + 60_000_000_000L;
        int seen = 0;
        while (System.nanoTime() < deadline && seen < 2) {
            Thread.sleep(200);
            seen = RouteQueueReader.hasQueueFiles(queue) ? StatsRecords.read(queue).entries.size() : 0;
        }
        p.destroyForcibly();
        p.waitFor();
        Forked.collect(p);
        assertTrue(seen >= 2, "periodic records while running: " + seen);
        StatsRecords s = StatsRecords.read(queue);
        assertEquals(0, s.skipped + s.corrupt, "no torn record");
        for (StatsRecords.Entry e : s.entries) {
            assertEquals(RouteFormat.STATS_PERIODIC, e.stats().reason(), "no closing record after kill -9");
        }
        StatsRecord last = s.last();
        assertTrue(last.calls() > 0 && last.recordedCalls() == last.calls(), last::toString);
        assertTrue(last.recordedCalls() <= s.routes, "the queue holds at least what the record counted");
        assertTrue(last.elapsedNanos() >= 1_000_000_000L, "written after the first interval: " + last);
    }

    /** A cap stops recording: a 'stopped' record, then at exit every later call counted as dropped by the cap. */
    @Test
    void capDropsAreCounted() throws Exception {
        Path queue = work.resolve("q");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",max-records=10,queue=" + queue,
                List.of(), MAIN, "1", "400", "4", "4", "5"), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        StatsRecords s = StatsRecords.read(queue);
        assertTrue(s.entries.stream().anyMatch(e -> e.stats().reason() == RouteFormat.STATS_STOPPED),
                "a stopped record");
        StatsRecord last = s.last();
        assertEquals(RouteFormat.STATS_EXIT, last.reason());
        assertEquals(400 * 4, last.calls());
        assertEquals(s.routes, last.recordedCalls());
        // every layer is recorded, so each call after the cap is one route record not written
        assertEquals(last.calls() - last.recordedCalls(), last.droppedCap(), last::toString);
        assertEquals(0, last.droppedError());
    }

    /** test.spin-nanos: every call spends at least the injected time inside the agent, and the account shows it. */
    @Test
    void injectedSpinIsTimedAsTheAgentsOwnCost() throws Exception {
        Path queue = work.resolve("q");
        long spin = 200_000;
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",test.spin-nanos=" + spin + ",queue="
                + queue, List.of(), MAIN, "1", "10", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        StatsRecord last = StatsRecords.read(queue).last();
        assertEquals(20, last.calls());
        assertTrue(last.nanosInside() >= last.calls() * spin, last::toString);
        assertTrue(last.extra().get("max_call_nanos") >= spin, last::toString);
    }

    /** Detach writes the closing record with reason 'detach'; the host goes on and writes nothing more. */
    @Test
    void detachWritesTheClosingRecord() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Forked.JAVA, "-cp", Forked.TEST_CLASSES.toString(), MAIN, "stdin",
                "3", "5").directory(work.toFile());
        pb.environment().remove("MOE_ROUTE_LOG");
        pb.redirectError(work.resolve("host-stderr.txt").toFile());
        Process host = pb.start();
        Path queue = work.resolve("q");
        try (Writer toHost = new java.io.OutputStreamWriter(host.getOutputStream(), StandardCharsets.UTF_8);
             BufferedReader fromHost = new BufferedReader(new InputStreamReader(host.getInputStream(),
                     StandardCharsets.UTF_8))) {
            assertEquals("ready", fromHost.readLine());
            String pid = Long.toString(host.pid());
            Forked.Result attach = Attach.cli(work, "attach", pid, FIXTURE + ",queue=" + queue);
            assertEquals(0, attach.exitCode(), attach::toString);
            for (int i = 0; i < 2; i++) {
                toHost.write("go\n");
                toHost.flush();
                assertEquals("step " + i + " done", fromHost.readLine());
            }
            Forked.Result detach = Attach.cli(work, "detach", pid);
            assertEquals(0, detach.exitCode(), detach::toString);
            toHost.write("go\n");
            toHost.flush();
            assertEquals("step 2 done", fromHost.readLine());
        }
        assertEquals(0, host.waitFor());
        StatsRecords s = StatsRecords.read(queue);
        StatsRecord last = s.last();
        assertEquals(RouteFormat.STATS_DETACH, last.reason(), s.entries::toString);
        assertEquals(2 * 3, last.calls());
        assertEquals(2 * 3, last.recordedCalls());
        assertEquals(1 + 2 + 6 + s.entries.size() - 1, last.records());
    }
}
