package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.Host;
import io.moeagent.agent.support.Routes;
import io.moeagent.format.RouteQueueReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 9 item 1: the queue on a real, small tmpfs that fills up while the real host runs. Before the fix the
 * page fault on the memory-mapped cycle file surfaced as an InternalError in the host's own code (exit 1, no
 * report). Now: host exit 0, its report written, exactly one {@code moe-agent:} line, and what reached the queue
 * reads back whole. Needs root to mount a tmpfs: skipped with a message where it cannot, but under {@code CI=true}
 * a refused mount fails the test.
 */
class FullDiskIT {
    @TempDir
    Path work;

    private Path mount;

    @BeforeAll
    static void hostBuilt() {
        Assumptions.assumeTrue(Forked.hostBuilt(), "host-engine/target/host.jar not built");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mount != null) {
            Process p = new ProcessBuilder("umount", mount.toString()).redirectErrorStream(true).start();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The campaign's sizes: with the default margin (64 MB) and with none the agent refuses to start on 16 KB and
     * 256 KB; 768 KB with no margin starts and fills up mid-run, then stops with the records so far whole.
     */
    @ParameterizedTest(name = "tmpfs {0}, agent options ''{1}''")
    @CsvSource({"16k,'',false", "256k,min-free-space=0,false", "768k,min-free-space=0,true"})
    void aFullDiskNeverBreaksTheHost(String size, String options, boolean records) throws Exception {
        mount = mountTmpfs(size);
        Path queue = mount.resolve("q");
        Path report = work.resolve("run.json");
        Forked.Result r = Forked.run(Host.run(Forked.JAVA, options, List.of(), report, "--limit", "8",
                "--max-new-tokens", "64"), Host.env(queue.toString()), work, 900);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(Files.isRegularFile(report), "the host wrote its report: " + r);
        assertFalse(r.stderr().contains("InternalError"), r::toString);
        assertEquals(1, r.agentLines().size(), r::toString);
        String line = r.agentLines().get(0);
        assertTrue(line.startsWith("moe-agent: only ") && line.contains(" free on the file system of " + queue),
                line);
        assertTrue(line.endsWith(records ? "recording stopped, " + queue + " keeps the records written so far"
                : "the host runs without recording"), line);
        assertEquals(records, RouteQueueReader.hasQueueFiles(queue), "queue files");
        if (records) {
            Routes routes = Routes.read(queue);
            assertEquals(1, routes.metas.size());
            // what fitted before the guard stopped: the cycle file's header, Chronicle's metadata file and the first
            // allocation step take most of the 768 KB, so whether the prefill's records still fit depends on when the
            // allocator thread ran (seen both ways); what must hold: every record there is whole and joins its step
            assertEquals(0, routes.skipped, "no cut record");
            assertEquals(0, routes.orphanRoutes);
        }
    }

    private Path mountTmpfs(String size) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("tmpfs"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        boolean ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        if (!ok) {
            String why = "cannot mount a " + size + " tmpfs at " + dir + " (" + out + "); the full-disk test needs"
                    + " root (or CAP_SYS_ADMIN)";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why + ", and under CI=true it must run");
            }
            Assumptions.abort(why);
        }
        return dir;
    }
}
