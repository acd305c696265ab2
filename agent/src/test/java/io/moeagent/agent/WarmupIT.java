package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.fixture.FixtureMain;
import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.Routes;
import io.moeagent.agent.support.StatsRecords;
import io.moeagent.format.StatsRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up warm-up ({@code warmup=N}) with the real moe-agent.jar in forked JVMs, each with a
 * {@code java.io.tmpdir} of its own so that the scratch directory can be watched: it goes away, the real queue
 * holds only the host's session, the host's records are the same with and without it (also when host calls
 * arrive while it runs), the closing stats record reports it apart from the calls, and a warm-up that cannot
 * create its scratch directory costs one line while recording goes on.
 */
class WarmupIT {
    private static final String FIXTURE = "pointcut.class=io.moeagent.agent.fixture.FixtureRouter";
    private static final String MAIN = FixtureMain.class.getName();
    private static final String SCRATCH_PREFIX = "moe-agent-warmup-";

    @TempDir
    Path work;

    /** Waits for "ready", lets the warm-up finish (its scratch directory appears, then goes), then 2 steps. */
    @Test
    void warmupEndsBeforeTheFirstCallAndLeavesNothingBehind() throws Exception {
        Path tmp = Files.createDirectory(work.resolve("tmp"));
        Path queue = work.resolve("q");
        int planned = 100_000;
        List<String> cmd = Forked.fixture(Forked.JAVA, FIXTURE + ",warmup=" + planned + ",queue=" + queue,
                List.of("-Djava.io.tmpdir=" + tmp), MAIN, "stdin", "3", "5");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
        pb.environment().put("MOE_ROUTE_LOG", "1");
        Path stderr = work.resolve("host-stderr.txt");
        pb.redirectError(stderr.toFile());
        Process host = pb.start();
        try (Writer toHost = new java.io.OutputStreamWriter(host.getOutputStream(), StandardCharsets.UTF_8);
             BufferedReader fromHost = new BufferedReader(new InputStreamReader(host.getInputStream(),
                     StandardCharsets.UTF_8))) {
            assertEquals("ready", fromHost.readLine());
            boolean seen = false;
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline) {
                boolean now = !scratchDirs(tmp).isEmpty();
                seen |= now;
                if (seen && !now) {
                    break;
                }
                Thread.sleep(20);
            }
            assertTrue(seen, "the warm-up's scratch directory was never seen in " + tmp);
            assertEquals(List.of(), scratchDirs(tmp), "the scratch directory is deleted when the warm-up ends");
            for (int i = 0; i < 2; i++) {
                toHost.write("go\n");
                toHost.flush();
                assertEquals("step " + i + " done", fromHost.readLine());
            }
        }
        assertEquals(0, host.waitFor());
        String err = Files.readString(stderr);
        assertEquals(List.of(), err.lines().filter(l -> l.startsWith("moe-agent:")).toList(), err);
        assertEquals(List.of("moe-agent-" + System.getProperty("user.name")), list(tmp),
                "only the agent's extraction directory is left in java.io.tmpdir");

        StatsRecords s = StatsRecords.read(queue);
        assertEquals(1, s.metaRunIds.size(), "the real queue holds the host's session only");
        Routes routes = Routes.read(queue);
        assertEquals(1, routes.metas.size());
        assertEquals("fixture", routes.metas.get(0).modelId());
        assertEquals(2 * 3, routes.routeRecords);
        StatsRecord last = s.last();
        assertEquals(2 * 3, last.calls(), "synthetic calls are not the session's calls");
        assertEquals(1 + 2 + 6 + s.entries.size() - 1, last.records(), last::toString);
        Map<String, Long> x = last.extra();
        assertEquals(planned, x.get("warmup_planned"));
        assertEquals(planned, x.get("warmup_calls"));
        assertEquals(1L, x.get("warmup_end"), "done: all planned calls ran before the host's first");
        assertTrue(x.get("warmup_nanos") > 0 && x.get("warmup_nanos") < last.elapsedNanos(), x::toString);
        assertTrue(x.get("warmup_cpu_nanos") >= 0, x::toString);
        assertTrue(last.nanosInside() < x.get("warmup_nanos"), "the warm-up's time is not the session's time inside");
    }

    /**
     * The same host run (2 threads, calls from the first moment, so they arrive while the warm-up runs) with the
     * warm-up off and on: the same rows in the same order, every record whole, nothing left in java.io.tmpdir.
     */
    @Test
    void recordsAreTheSameWithAndWithoutWarmup() throws Exception {
        List<String> off = run("warmup=0", "off");
        List<String> on = run("warmup=100000", "on");
        assertEquals(2 * (5 + 39) * 4, off.size(), "rows: 2 threads x (a prefill of 5 + 39 decode rows) x 4 layers");
        assertEquals(off, on);
    }

    private List<String> run(String option, String name) throws Exception {
        Path tmp = Files.createDirectory(work.resolve("tmp-" + name));
        Path queue = work.resolve("q-" + name);
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + "," + option + ",queue=" + queue,
                List.of("-Djava.io.tmpdir=" + tmp), MAIN, "2", "40", "4", "5"), Map.of("MOE_ROUTE_LOG", "1"),
                work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        assertEquals(List.of(), scratchDirs(tmp), name + ": scratch directory left behind");
        Routes routes = Routes.read(queue);
        assertEquals(0, routes.skipped + routes.orphanRoutes, name);
        assertEquals(1, routes.metas.size(), name + ": one session in the real queue");
        StatsRecord last = StatsRecords.read(queue).last();
        assertEquals(2 * 40 * 4, last.calls(), name);
        long end = last.extra().get("warmup_end");
        assertTrue(option.equals("warmup=0") ? end == -1 : end == 1 || end == 2, name + ": " + last.extra());
        // thread and step ids as the host numbered them: request ids tell the threads apart
        return routes.rows.stream()
                .sorted(java.util.Comparator.comparingLong(Routes.Row::request).thenComparingInt(Routes.Row::position)
                        .thenComparingInt(Routes.Row::layer))
                .map(row -> row.key() + " " + row.prefill() + " " + Arrays.toString(row.ids()) + " "
                        + Arrays.toString(row.weights()) + " " + row.phase() + " " + row.tokenId())
                .collect(Collectors.toList());
    }

    /** java.io.tmpdir unwritable (after a first start extracted the agent there): one line, recording goes on. */
    @Test
    void aFailedWarmupCostsOneLineAndRecordingGoesOn() throws Exception {
        Path tmp = Files.createDirectory(work.resolve("tmp"));
        List<String> jvm = List.of("-Djava.io.tmpdir=" + tmp);
        Forked.Result first = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",warmup=0,queue=" + work.resolve("q0"),
                jvm, MAIN, "1", "1", "1", "1"), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, first.exitCode(), first::toString);
        boolean immutable = false;
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-xr-xr-x"));
            if (writable(tmp)) {
                // root writes anywhere: an immutable directory refuses even root (where chattr is allowed)
                immutable = new ProcessBuilder("chattr", "+i", tmp.toString()).redirectErrorStream(true).start()
                        .waitFor() == 0;
            }
            Assumptions.assumeFalse(writable(tmp), "cannot make " + tmp + " unwritable here");
            Path queue = work.resolve("q");
            Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",warmup=50000,queue=" + queue, jvm,
                    MAIN, "1", "20", "4", "5"), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
            assertEquals(0, r.exitCode(), r::toString);
            List<String> lines = r.agentLines();
            assertEquals(1, lines.size(), r::toString);
            assertTrue(lines.get(0).startsWith("moe-agent: warm-up failed after 0 of 50000 synthetic calls (")
                    && lines.get(0).contains("recording goes on unwarmed"), lines.get(0));
            Routes routes = Routes.read(queue);
            assertEquals(20 * 4, routes.routeRecords, "every host call recorded");
            assertEquals(0, routes.skipped + routes.orphanRoutes);
            StatsRecord last = StatsRecords.read(queue).last();
            assertEquals(20 * 4, last.calls());
            assertEquals(4L, last.extra().get("warmup_end"), last.extra()::toString);
            assertEquals(0L, last.extra().get("warmup_calls"));
        } finally {
            if (immutable) {
                new ProcessBuilder("chattr", "-i", tmp.toString()).start().waitFor();
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        }
    }

    private static boolean writable(Path dir) {
        try {
            Files.delete(Files.createTempFile(dir, "probe", ".tmp"));
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static List<String> scratchDirs(Path tmp) throws IOException {
        return list(tmp).stream().filter(n -> n.startsWith(SCRATCH_PREFIX)).collect(Collectors.toList());
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }
}
