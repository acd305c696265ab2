package io.moeagent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The analyzer on the queue that the agent module's JlamaProfileIT recorded from Jlama's Mixtral with
 * {@code profile=jlama-mixtral} (left in agent/target/jlama-mixtral-queue): export, validate, stats and plot all
 * succeed, nothing is skipped, and the PNGs are real. Skips with a message where that test did not run (no Java
 * 21+); fails under CI=true.
 */
class JlamaQueueAnalyzeIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path QUEUE = ROOT.resolve("agent/target/jlama-mixtral-queue");
    private static final Path ANALYZER = ROOT.resolve("analyzer/target/analyzer.jar");
    private static final Path OUT = Path.of("target", "jlama-analyze").toAbsolutePath();

    record Run(int code, String out) {
    }

    @Test
    void exportValidateStatsPlotSucceedOnTheJlamaQueue() throws Exception {
        if (!Files.isDirectory(QUEUE)) {
            String why = QUEUE + " does not exist: the agent's JlamaProfileIT did not run (it needs Java 21+)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(why + " (CI=true)");
            }
            Assumptions.abort(why);
        }
        Files.createDirectories(OUT);
        Path jsonl = OUT.resolve("routes.jsonl");
        Run export = analyzer("export", "--queue", QUEUE.toString(), "--out", jsonl.toString());
        assertEquals(0, export.code, export.out);
        assertTrue(!export.out.contains("skipped"), export.out);
        Run validate = analyzer("validate", jsonl.toString());
        assertEquals(0, validate.code, validate.out);
        Run stats = analyzer("stats", "--queue", QUEUE.toString(), "--json", OUT.resolve("stats.json").toString());
        assertEquals(0, stats.code, stats.out);
        assertTrue(Files.size(OUT.resolve("stats.json")) > 0);
        Run statsJsonl = analyzer("stats", jsonl.toString());
        assertEquals(0, statsJsonl.code, statsJsonl.out);
        Path hist = OUT.resolve("hist.png");
        Path heat = OUT.resolve("heat.png");
        Run plot = analyzer("plot", "--queue", QUEUE.toString(), "--out", hist.toString(), "--heatmap",
                heat.toString());
        assertEquals(0, plot.code, plot.out);
        for (Path png : List.of(hist, heat)) {
            byte[] head = Files.readAllBytes(png);
            assertEquals((byte) 0x89, head[0], png.toString());
            assertEquals('P', head[1], png.toString());
        }
    }

    private static Run analyzer(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", ANALYZER.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("analyzer " + String.join(" ", args) + " timed out");
        }
        return new Run(p.exitValue(), new String(out));
    }
}
