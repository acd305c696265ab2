package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.support.Attach;
import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.Host;
import io.moeagent.agent.support.Routes;
import io.moeagent.format.RouteQueueReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** attach / detach against the real host serving completions: records only while attached, bytecode restored. */
class HostAttachIT {
    private static final String ROUTER = "io.moeagent.host.model.Router";

    @TempDir
    Path work;

    @Test
    void attachToARunningServerRecordsUntilDetach() throws Exception {
        Assumptions.assumeTrue(Forked.hostBuilt(), "host-engine/target/host.jar not built");
        Process server = Forked.start(List.of(Forked.JAVA, "-jar", Forked.HOST_JAR.toString(), "serve", "--port", "0",
                "--model", "synthetic:tiny"), Host.env(null), work);
        try {
            int port = awaitPort(server);
            String pid = Long.toString(server.pid());
            complete(port);
            byte[] original = Attach.currentBytes(server.pid(), ROUTER, work);

            Path q1 = work.resolve("q1");
            Forked.Result attach = Attach.cli(work, "attach", pid, "queue=" + q1);
            assertEquals(0, attach.exitCode(), attach::toString);
            assertFalse(RouteQueueReader.hasQueueFiles(q1) && Routes.read(q1).routeRecords > 0,
                    "no records before a request");

            complete(port);
            Routes during = Routes.read(q1);
            assertTrue(during.rows.size() > 0, "records after a completion request");
            assertEquals(1, during.metas.size());
            assertEquals("synthetic:tiny", during.metas.get(0).modelId());
            Set<Integer> layers = during.rows.stream().map(Routes.Row::layer).collect(Collectors.toSet());
            assertEquals(during.metas.get(0).numLayers(), layers.size(), "every layer recorded");
            byte[] woven = Attach.currentBytes(server.pid(), ROUTER, work);
            assertNotEquals(Attach.disassemble(original), Attach.disassemble(woven), "advice woven in while attached");
            FixtureAgentIT.assertVerifies(woven);

            Forked.Result detach = Attach.cli(work, "detach", pid);
            assertEquals(0, detach.exitCode(), detach::toString);
            assertEquals(Attach.disassemble(original), Attach.disassemble(Attach.currentBytes(server.pid(), ROUTER,
                    work)), "original bytecode after detach");
            int recorded = Routes.read(q1).rows.size();
            complete(port);
            assertEquals(recorded, Routes.read(q1).rows.size(), "no records after detach");

            Path q2 = work.resolve("q2");
            assertEquals(0, Attach.cli(work, "attach", pid, "queue=" + q2 + ",layers=0-1").exitCode());
            complete(port);
            assertEquals(0, Attach.cli(work, "detach", pid).exitCode());
            Routes again = Routes.read(q2);
            assertEquals(Set.of(0, 1), again.rows.stream().map(Routes.Row::layer).collect(Collectors.toSet()));
            assertTrue(server.isAlive(), "the server survived attach and detach");
            assertEquals(List.of(), Forked.stderrSoFar(server).lines().filter(l -> l.contains("Exception")).toList());
        } finally {
            server.destroy();
            server.waitFor();
            Forked.collect(server);
        }
    }

    private static int awaitPort(Process server) throws Exception {
        Pattern p = Pattern.compile("listening on port (\\d+)");
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = p.matcher(Forked.stdoutSoFar(server));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            assertTrue(server.isAlive(), () -> "server exited: " + errOf(server));
            Thread.sleep(200);
        }
        throw new AssertionError("server did not report its port: " + errOf(server));
    }

    private static String errOf(Process server) {
        try {
            return Forked.stderrSoFar(server);
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static void complete(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Tom has 3 apples.\",\"max_tokens\":3}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
    }
}
