package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.Host;
import io.moeagent.agent.support.Routes;
import io.moeagent.format.MetaRecord;
import io.moeagent.host.io.ConfigLoader;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.reference.ReferenceQwen2Moe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent on the real host (synthetic:tiny). What the queue holds is checked against a routing recomputed
 * by the host's independent double-precision reference model from the checkpoint file and the report's token ids.
 */
class HostAgentIT {
    /** Reference (double) vs engine (fp32) weights after 8 layers. */
    private static final double WEIGHT_TOLERANCE = 1e-5;
    /** Below this probability gap an fp32 engine may legitimately pick, or order, the other expert. */
    private static final double NEAR_TIE = 1e-5;

    @TempDir
    Path work;

    @BeforeAll
    static void hostBuilt() {
        Assumptions.assumeTrue(Forked.hostBuilt(), "host-engine/target/host.jar not built");
    }

    @Test
    void recordsEqualTheReferenceRoutingForEveryLayerRequestAndPosition() throws Exception {
        Path report = work.resolve("run.json");
        Path queue = work.resolve("routes");
        Forked.Result r = Forked.run(Host.run(Forked.JAVA, "", List.of(), report, "--limit", "3",
                "--max-new-tokens", "4", "--label", "agent-test"), Host.env(queue.toString()), work, 300);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        JsonNode rep = Host.report(report);
        Routes routes = Routes.read(queue);

        assertEquals(1, routes.metas.size());
        MetaRecord meta = routes.metas.get(0);
        assertEquals(rep.get("model_id").asText(), meta.modelId());
        assertEquals("moe-host", meta.engine());
        assertEquals(rep.get("num_layers").asInt(), meta.numLayers());
        assertEquals(rep.get("top_k").asInt(), meta.topK());
        assertEquals(rep.get("seed").asLong(), meta.seed());
        int[] moeLayers = new int[rep.get("moe_layers").size()];
        for (int i = 0; i < moeLayers.length; i++) {
            moeLayers[i] = rep.get("moe_layers").get(i).asInt();
        }
        assertArrayEquals(moeLayers, meta.layersRecorded());
        assertEquals(0, routes.orphanRoutes);
        assertEquals(0, routes.skipped);
        assertEquals(rep.get("tokens_forwarded").asLong() * moeLayers.length, routes.rows.size(),
                "one row per forwarded token and MoE layer");

        Map<String, Routes.Row> byKey = new HashMap<>();
        for (Routes.Row row : routes.rows) {
            assertTrue(byKey.put(row.key(), row) == null, "(request, position, layer) recorded twice: " + row.key());
        }

        Path checkpoint = Host.CACHE.resolve("synthetic-tiny");
        ModelConfig config = ConfigLoader.load(checkpoint);
        ReferenceQwen2Moe reference = new ReferenceQwen2Moe(config,
                Host.tensors(checkpoint.resolve("model.safetensors")));
        int compared = 0;
        int nearTies = 0;
        double worstWeight = 0;
        for (JsonNode req : rep.get("requests")) {
            long id = req.get("req_id").asLong();
            long[] fed = fedTokens(req);
            List<ReferenceQwen2Moe.TokenResult> results = reference.newSession().feed(fed);
            for (int pos = 0; pos < fed.length; pos++) {
                for (ReferenceQwen2Moe.Route expected : results.get(pos).routes) {
                    Routes.Row got = byKey.get(id + "/" + pos + "/" + expected.layer);
                    assertTrue(got != null, "no record for request " + id + " position " + pos + " layer "
                            + expected.layer);
                    for (int j = 0; j < expected.ids.length; j++) {
                        if (got.ids()[j] != expected.ids[j]) {
                            double gap = Math.abs(expected.probabilities[got.ids()[j]]
                                    - expected.probabilities[expected.ids[j]]);
                            assertTrue(gap < NEAR_TIE, "request " + id + " position " + pos + " layer "
                                    + expected.layer + " slot " + j + ": recorded expert " + got.ids()[j]
                                    + ", reference " + expected.ids[j] + " (probability gap " + gap + ")");
                            nearTies++;
                            continue;
                        }
                        double diff = Math.abs(got.weights()[j] - expected.weights[j]);
                        worstWeight = Math.max(worstWeight, diff);
                        assertTrue(diff <= WEIGHT_TOLERANCE, "weight differs by " + diff + " at request " + id
                                + " position " + pos + " layer " + expected.layer);
                    }
                    compared++;
                }
            }
        }
        assertEquals(routes.rows.size(), compared, "every recorded row was compared");
        assertTrue(nearTies <= compared / 100, "near-ties " + nearTies + " of " + compared);
        System.out.printf("compared %d routed rows; near-ties %d; worst weight difference %.3g%n", compared,
                nearTies, worstWeight);
    }

    /** Prompt ids, then every generated id but the last (it is never fed back). */
    private static long[] fedTokens(JsonNode req) {
        JsonNode prompt = req.get("prompt_ids");
        JsonNode gen = req.get("generated_ids");
        int n = prompt.size() + Math.max(0, gen.size() - 1);
        long[] out = new long[n];
        for (int i = 0; i < prompt.size(); i++) {
            out[i] = prompt.get(i).asLong();
        }
        for (int i = 0; i + 1 < gen.size(); i++) {
            out[prompt.size() + i] = gen.get(i).asLong();
        }
        return out;
    }

    @Test
    void envUnsetLeavesTheHostUntouched() throws Exception {
        Path withAgent = work.resolve("with-agent.json");
        Forked.Result r = Forked.run(Host.run(Forked.JAVA, "", List.of("-verbose:class"), withAgent, "--limit", "2",
                "--max-new-tokens", "3"), Host.env(null), work, 300);
        assertEquals(0, r.exitCode(), r::toString);
        assertFalse(r.stdout().contains("net.bytebuddy"), "ByteBuddy loaded with MOE_ROUTE_LOG unset");
        assertFalse(r.stdout().contains("net.openhft"), "Chronicle loaded with MOE_ROUTE_LOG unset");
        assertFalse(Files.exists(work.resolve("moe-routes")), "no queue directory");
        assertEquals(List.of(), r.agentLines());

        Path without = work.resolve("without.json");
        Forked.Result plain = Forked.run(Host.run(Forked.JAVA, null, List.of(), without, "--limit", "2",
                "--max-new-tokens", "3"), Host.env(null), work, 300);
        assertEquals(0, plain.exitCode(), plain::toString);
        assertEquals(Host.report(without).get("outputs_digest").asText(),
                Host.report(withAgent).get("outputs_digest").asText(), "same generated tokens");
    }

    @Test
    void unwritableQueueDirectoryLeavesTheHostRunning() throws Exception {
        Path file = Files.writeString(work.resolve("a-file"), "not a directory");
        Path report = work.resolve("run.json");
        Forked.Result r = Forked.run(Host.run(Forked.JAVA, "", List.of(), report, "--limit", "1",
                "--max-new-tokens", "2"), Host.env(file.resolve("routes").toString()), work, 300);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(1, r.agentLines().size(), r::toString);
        assertEquals(1, r.stderr().lines().count(), "nothing but the agent's line: " + r);
        assertTrue(Files.exists(report), "the host finished its run");
    }

    @Test
    void killMinusNineOfTheHostLeavesEveryCompleteRecordReadable() throws Exception {
        Path queue = work.resolve("routes");
        Process host = Forked.start(Host.run(Forked.JAVA, "", List.of(), work.resolve("never.json"), "--limit", "25",
                "--max-new-tokens", "200"), Host.env(queue.toString()), work);
        long deadline = System.nanoTime() + 180_000_000_000L;
        int seen = 0;
        while (System.nanoTime() < deadline && host.isAlive() && seen < 20) {
            Thread.sleep(250);
            if (io.moeagent.format.RouteQueueReader.hasQueueFiles(queue)) {
                seen = Routes.read(queue).steps.size();
            }
        }
        assertTrue(host.isAlive(), "still generating when killed");
        host.destroyForcibly();
        host.waitFor();
        Forked.collect(host);
        Routes routes = Routes.read(queue);
        assertEquals(1, routes.metas.size());
        assertEquals(0, routes.skipped, "no torn record");
        assertTrue(routes.steps.size() >= 20, "steps recorded before the kill: " + routes.steps.size());
        assertTrue(routes.routeRecords >= 8 * 19, "routes recorded before the kill: " + routes.routeRecords);
        assertEquals(0, routes.orphanRoutes);
        for (Routes.Row row : routes.rows) {
            assertEquals(4, row.ids().length);
            for (int j = 0; j < 4; j++) {
                assertTrue(row.ids()[j] >= 0 && row.ids()[j] < 60, row::toString);
                assertTrue(row.weights()[j] > 0 && row.weights()[j] <= 1, row::toString);
            }
        }
    }

    @Test
    void java25RunsTheHostWithTheAgentAndNoFlags() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Forked.JAVA25), "no Java 25 at " + Forked.JAVA25);
        Path report = work.resolve("run25.json");
        Path queue = work.resolve("routes25");
        Forked.Result r = Forked.run(Host.run(Forked.JAVA25.toString(), "", List.of(), report, "--limit", "2",
                "--max-new-tokens", "2"), Host.env(queue.toString()), work, 300);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        assertEquals(List.of(), r.jvmWarnings(), "no JVM warning (Unsafe, native access) on Java 25: " + r);
        JsonNode rep = Host.report(report);
        assertEquals(rep.get("tokens_forwarded").asLong() * rep.get("moe_layers").size(),
                Routes.read(queue).rows.size());
    }

}
