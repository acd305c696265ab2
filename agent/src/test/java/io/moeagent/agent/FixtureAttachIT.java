package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.fixture.FixtureMain;
import io.moeagent.agent.support.Attach;
import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.Routes;
import io.moeagent.format.RouteQueueReader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** attach / detach / list of the real jar against a running fixture JVM that routes one step per stdin line. */
class FixtureAttachIT {
    private static final String ROUTER = "io.moeagent.agent.fixture.FixtureRouter";

    @TempDir
    Path work;

    @Test
    void attachRecordsDetachRestoresAndAttachWorksAgain() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Forked.JAVA, "-cp", Forked.TEST_CLASSES.toString(),
                FixtureMain.class.getName(), "stdin", "3", "5").directory(work.toFile());
        pb.environment().remove("MOE_ROUTE_LOG");
        pb.redirectError(work.resolve("host-stderr.txt").toFile());
        Process host = pb.start();
        try (Writer toHost = new java.io.OutputStreamWriter(host.getOutputStream(), StandardCharsets.UTF_8);
             BufferedReader fromHost = new BufferedReader(new InputStreamReader(host.getInputStream(),
                     StandardCharsets.UTF_8))) {
            assertEquals("ready", fromHost.readLine());
            String pid = Long.toString(host.pid());
            step(toHost, fromHost, 0);
            byte[] original = Attach.currentBytes(host.pid(), ROUTER, work);

            Path q1 = work.resolve("q1");
            Forked.Result attach = Attach.cli(work, "attach", pid, "pointcut.class=" + ROUTER + ",queue=" + q1);
            assertEquals(0, attach.exitCode(), attach::toString);
            assertTrue(attach.stdout().contains("recording to " + q1), attach::toString);
            assertFalse(RouteQueueReader.hasQueueFiles(q1) && Routes.read(q1).routeRecords > 0,
                    "no records before a step ran");

            Forked.Result second = Attach.cli(work, "attach", pid, "queue=" + work.resolve("other"));
            assertNotEquals(0, second.exitCode());
            assertTrue(second.stderr().contains("already recording"), second::toString);
            // issue 9: the agent itself, loaded a second time past the CLI's check (jcmd JVMTI.agent_load, an
            // older CLI), refused but set moe.agent.recording=false, after which detach refused
            com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(pid);
            try {
                vm.loadAgent(Forked.AGENT_JAR.toString(), "attach;queue=" + work.resolve("other"));
                assertEquals("true", vm.getSystemProperties().getProperty("moe.agent.recording"),
                        "still recording after a refused second attach");
                assertTrue(vm.getSystemProperties().getProperty("moe.agent.message").contains("already recording"));
            } finally {
                vm.detach();
            }

            Forked.Result list = Attach.cli(work, "list");
            assertEquals(0, list.exitCode(), list::toString);
            assertTrue(list.stdout().lines().anyMatch(l -> l.startsWith(pid + " ") && l.contains(" yes ")),
                    list::toString);

            step(toHost, fromHost, 1);
            byte[] woven = Attach.currentBytes(host.pid(), ROUTER, work);
            assertNotEquals(Attach.disassemble(original), Attach.disassemble(woven), "advice woven in while attached");
            FixtureAgentIT.assertVerifies(woven);

            Forked.Result detach = Attach.cli(work, "detach", pid);
            assertEquals(0, detach.exitCode(), detach::toString);
            assertEquals(Attach.disassemble(original), Attach.disassemble(Attach.currentBytes(host.pid(), ROUTER,
                    work)), () -> "detach restores the original bytecode; detach said: " + detach);
            step(toHost, fromHost, 2);

            Routes r1 = Routes.read(q1);
            // queue step ids are the agent's own, from 0 per recording: one step record = only the step run while attached
            assertEquals(Set.of(0L), r1.steps.stream().map(s -> s.stepId()).collect(Collectors.toSet()),
                    "only the step run while attached");
            assertEquals(3, r1.routeRecords);
            assertEquals(1, r1.metas.size());

            Forked.Result notRecording = Attach.cli(work, "detach", pid);
            assertNotEquals(0, notRecording.exitCode());
            assertTrue(notRecording.stderr().contains("not recording"), notRecording::toString);

            Path q2 = work.resolve("q2");
            Forked.Result again = Attach.cli(work, "attach", pid, "pointcut.class=" + ROUTER + ",queue=" + q2
                    + ",layers=0");
            assertEquals(0, again.exitCode(), again::toString);
            step(toHost, fromHost, 3);
            assertEquals(0, Attach.cli(work, "detach", pid).exitCode());
            Routes r2 = Routes.read(q2);
            assertEquals(1, r2.routeRecords);
            assertEquals(List.of(0L), r2.steps.stream().map(s -> s.stepId()).toList(), "one step, numbered afresh");
            assertEquals(3, Routes.read(q1).routeRecords, "nothing more in the first queue");
        }
        assertEquals(0, host.waitFor());
    }

    @Test
    void badTargetsGiveOneMessageAndNonZeroExit() throws Exception {
        Forked.Result notANumber = Attach.cli(work, "attach", "host-1");
        assertEquals(2, notANumber.exitCode());
        assertTrue(notANumber.stderr().contains("not a process id"), notANumber::toString);

        Forked.Result noSuchPid = Attach.cli(work, "attach", "999999999");
        assertNotEquals(0, noSuchPid.exitCode());
        assertTrue(noSuchPid.stderr().startsWith("moe-agent: cannot attach to 999999999"), noSuchPid::toString);
        assertEquals(1, noSuchPid.stderr().lines().count(), noSuchPid::toString);

        Forked.Result unknown = Attach.cli(work, "frobnicate");
        assertEquals(2, unknown.exitCode());

        Process refusing = new ProcessBuilder(Forked.JAVA, "-XX:+DisableAttachMechanism", "-cp",
                Forked.TEST_CLASSES.toString(), FixtureMain.class.getName(), "stdin", "1", "1")
                .directory(work.toFile()).start();
        try {
            assertEquals("ready", new BufferedReader(new InputStreamReader(refusing.getInputStream())).readLine());
            Forked.Result refused = Attach.cli(work, "attach", Long.toString(refusing.pid()));
            assertEquals(3, refused.exitCode(), refused::toString);
            assertEquals(1, refused.stderr().lines().count(), refused::toString);
            assertTrue(refused.stderr().contains("refuses the attach API"), refused::toString);
        } finally {
            refusing.destroy();
            refusing.waitFor();
        }
    }

    private static void step(Writer toHost, BufferedReader fromHost, int expected) throws Exception {
        toHost.write("go\n");
        toHost.flush();
        assertEquals("step " + expected + " done", fromHost.readLine());
    }

}
