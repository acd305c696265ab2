package io.moeagent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Keeps the whole path working: test.sh with 3 prompts, 8 new tokens, one run per group. */
class TestScriptIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path OUT = Path.of("target", "e2e-out").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static String output;
    private static int exitCode;

    @BeforeAll
    static void runTheScript() throws Exception {
        // this test's own folder under target/ (test.sh itself deletes only folders it marked as its own)
        if (Files.isDirectory(OUT)) {
            try (var walk = Files.walk(OUT)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        ProcessBuilder pb = new ProcessBuilder("bash", "test.sh").directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("LIMIT", "3");
        pb.environment().put("MAX_NEW_TOKENS", "8");
        pb.environment().put("RUNS", "1");
        pb.environment().put("OUT", OUT.toString());
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = pb.start();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "test.sh did not finish");
        output = new String(bytes, StandardCharsets.UTF_8);
        exitCode = p.exitValue();
        System.out.println(output);
    }

    @Test
    void exitsZeroAndSaysOutputsAreIdentical() {
        assertEquals(0, exitCode, output);
        assertTrue(output.contains("identical outputs:  yes"), output);
        // the mark that lets the next run delete this folder, and only this one
        assertTrue(Files.isRegularFile(OUT.resolve(".created-by-moe-agent-test.sh")));
    }

    /** The summary gives the agent's direct cost from its stats records and the paired end-to-end overhead. */
    @Test
    void summaryShowsTheAgentsCostAndTheOverhead() {
        String summary = output.substring(output.indexOf("== summary"));
        assertTrue(summary.matches("(?s).*\\ndirect cost agent: [0-9.]+ [nu]s per selection call .*"), summary);
        assertTrue(summary.contains("\noverhead agent (CPU/token): "), summary);
        assertTrue(summary.contains("\nverdict:            agent "), summary);
    }

    @Test
    void routesCoverEveryTokenOfTheRecordedRun() throws IOException {
        List<String> lines = Files.readAllLines(OUT.resolve("routes.jsonl"));
        JsonNode meta = JSON.readTree(lines.get(0));
        assertEquals("meta", meta.get("type").asText());
        JsonNode report = JSON.readTree(OUT.resolve("runs/agent-1.json").toFile());
        long expected = report.get("tokens_forwarded").asLong() * meta.get("layers_logged").size();
        assertEquals(expected, lines.size() - 1, "one route line per forwarded token and recorded layer");
        JsonNode route = JSON.readTree(lines.get(1));
        assertEquals(meta.get("top_k").asInt(), route.get("topk_ids").size());
    }

    @Test
    void statsHaveEntropyBelowTheMaximum() throws IOException {
        String stats = Files.readString(OUT.resolve("stats.json"));
        JsonNode node = JSON.readTree(stats);
        assertTrue(stats.contains("entropy"), stats);
        assertTrue(node.size() > 0);
    }

    @Test
    void plotsAre300DpiPngs() throws IOException {
        for (String name : List.of("hist-layer0.png", "hist.png", "heatmap.png")) {
            assertEquals(11811, pixelsPerMetre(OUT.resolve(name)), name + " should be 300 DPI");
        }
    }

    /** Reads the x density of a PNG's pHYs chunk; -1 when absent. */
    private static long pixelsPerMetre(Path png) throws IOException {
        try (InputStream in = Files.newInputStream(png); DataInputStream d = new DataInputStream(in)) {
            byte[] sig = d.readNBytes(8);
            assertEquals((byte) 0x89, sig[0], png + " is not a PNG");
            while (true) {
                int len = d.readInt();
                String type = new String(d.readNBytes(4), StandardCharsets.US_ASCII);
                if (type.equals("pHYs")) {
                    return Integer.toUnsignedLong(d.readInt());
                }
                if (type.equals("IDAT") || type.equals("IEND")) {
                    return -1;
                }
                d.skipNBytes(len + 4L);
            }
        }
    }
}
