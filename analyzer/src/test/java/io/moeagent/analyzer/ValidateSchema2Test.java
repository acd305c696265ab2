package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import io.moeagent.analyzer.validate.Defect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** JSONL schema 2 (run_id, host, expert_order in meta; token_id on routes), and arrays bounded by top_k. */
class ValidateSchema2Test {
    @TempDir
    Path tmp;

    static final String META = "{\"type\":\"meta\",\"schema_version\":2,\"model_id\":\"m\",\"engine\":\"moe-host\","
            + "\"engine_version\":\"0.1.0\",\"torch_version\":\"2.7.1\",\"device\":\"cpu\",\"seed\":1,"
            + "\"layers_logged\":[0],\"top_k\":2,\"num_experts\":8,\"pid\":1,\"run_id\":\"0123456789abcdef\","
            + "\"host\":\"h\",\"expert_order\":\"best_first\"}";

    static String route(int tok, String tokenId, String weights) {
        return "{\"type\":\"route\",\"req_id\":0,\"token_idx\":" + tok + ",\"layer\":0,\"phase\":\"decode\""
                + (tokenId == null ? "" : ",\"token_id\":" + tokenId) + ",\"topk_ids\":[3,1],\"topk_weights\":"
                + weights + "}";
    }

    static List<String> valid() {
        List<String> l = new ArrayList<>();
        l.add(META);
        l.add(route(0, "17", "[0.6,0.3]"));
        l.add(route(1, "null", "[0.5,0.25]"));
        return l;
    }

    Cli.Result validate(List<String> lines) throws Exception {
        Path f = tmp.resolve("routes.jsonl");
        Files.write(f, lines);
        return Cli.run("validate", f.toString());
    }

    @Test
    void aValidSchema2FileAndTheSchema2GoldenExportPass() throws Exception {
        Cli.Result r = validate(valid());
        assertEquals(0, r.code(), r.out());
        Path f = tmp.resolve("golden-v2.jsonl");
        Files.write(f, ExportGoldenTest.goldenV2());
        assertEquals(0, Cli.run("validate", f.toString()).code());
    }

    static Stream<Arguments> defects() {
        return Stream.of(
                Arguments.of(1, META.replace("\"run_id\":\"0123456789abcdef\",", ""), "'run_id' is missing"),
                Arguments.of(1, META.replace("0123456789abcdef", "12"), "'run_id' is \"12\""),
                Arguments.of(1, META.replace("\"host\":\"h\"", "\"host\":3"), "'host' is 3"),
                Arguments.of(1, META.replace("best_first", "sorted"), "'expert_order' is \"sorted\""),
                Arguments.of(2, route(0, null, "[0.6,0.3]"), "'token_id' is missing"),
                Arguments.of(2, route(0, "\"a\"", "[0.6,0.3]"), "'token_id' is \"a\""),
                Arguments.of(2, route(0, "1.5", "[0.6,0.3]"), "'token_id' is 1.5"),
                Arguments.of(3, route(1, "2", "[0.3,0.6]"), Defect.Kind.WEIGHTS_INCREASING.label()));
    }

    @ParameterizedTest(name = "line {0}: {2}")
    @MethodSource("defects")
    void schema2DefectsAreCaught(int line, String replacement, String expected) throws Exception {
        List<String> lines = valid();
        lines.set(line - 1, replacement);
        Cli.Result r = validate(lines);
        assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out());
        assertTrue(r.out().contains("line " + line + ": "), r.out());
        assertTrue(r.out().contains(expected), () -> "expected '" + expected + "' in:\n" + r.out());
    }

    @Test
    void expertOrderEngineDoesNotRequireNonIncreasingWeights() throws Exception {
        List<String> lines = valid();
        lines.set(0, META.replace("best_first", "engine"));
        lines.set(2, route(1, "2", "[0.3,0.6]"));
        assertEquals(0, validate(lines).code());
    }

    @Test
    void aSchema1FileNeedsNoneOfTheSchema2Fields() throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add(ValidateTest.META);
        lines.add(ValidateTest.route(0, 0, 0, "[3,1]", "[0.6,0.3]"));
        assertEquals(0, validate(lines).code());
    }

    /** The campaign's 50 MB line: a 25-million-entry topk_ids. Bounded by top_k it is counted, not held. */
    @Test
    void aHugeArrayIsCountedNotMaterialised() throws Exception {
        Path f = tmp.resolve("huge.jsonl");
        int n = 25_000_000;
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(f), 1 << 20)) {
            out.write((META + "\n").getBytes(StandardCharsets.UTF_8));
            out.write("{\"type\":\"route\",\"req_id\":0,\"token_idx\":0,\"layer\":0,\"phase\":\"decode\",\"token_id\":1,"
                    .getBytes(StandardCharsets.UTF_8));
            out.write("\"topk_ids\":[".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < n; i++) {
                out.write(i == 0 ? '1' : ',');
                if (i > 0) {
                    out.write('1');
                }
            }
            out.write("],\"topk_weights\":null}\n".getBytes(StandardCharsets.UTF_8));
        }
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run("validate", f.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out());
        assertTrue(r.out().contains("topk_ids has " + n + " entries; top_k is 2"), r.out());
        assertTrue(r.out().contains("expert 1 appears twice in topk_ids [1,1,... " + (n - 2) + " more]"), r.out());
        assertTrue(seconds < 60, "took " + seconds + " s");
        // the 50 MB line itself is buffered once; a tree of 25M nodes took 5.2 GB
        long after = rt.totalMemory() - rt.freeMemory();
        assertTrue(after - before < 400L << 20, "heap grew by " + ((after - before) >> 20) + " MB");
    }
}
