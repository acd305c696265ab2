package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import io.moeagent.analyzer.validate.Defect;
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

/** One case per kind of defect: a valid file with one line changed must fail with that kind, on that line. */
class ValidateTest {
    @TempDir
    Path tmp;

    static final String META = "{\"type\":\"meta\",\"schema_version\":1,\"model_id\":\"m\",\"engine\":\"moe-host\","
            + "\"engine_version\":\"0.1.0\",\"torch_version\":\"2.7.1\",\"device\":\"cpu\",\"seed\":1,"
            + "\"layers_logged\":[0,1],\"top_k\":2,\"num_experts\":8}";

    static List<String> validLines() {
        List<String> l = new ArrayList<>();
        l.add(META);
        l.add(route(0, 0, 0, "[3,1]", "[0.6,0.3]"));
        l.add(route(0, 1, 0, "[0,7]", "[0.5,0.25]"));
        l.add(route(0, 0, 1, "[2,5]", "[0.4,0.4]"));
        l.add(route(0, 1, 1, "[6,4]", "[0.9,0.0]"));
        return l;
    }

    static String route(Object req, int tok, int layer, String ids, String weights) {
        return "{\"type\":\"route\",\"req_id\":" + req + ",\"token_idx\":" + tok + ",\"layer\":" + layer
                + ",\"topk_ids\":" + ids + ",\"topk_weights\":" + weights + "}";
    }

    Path write(List<String> lines) throws Exception {
        Path f = tmp.resolve("routes.jsonl");
        Files.write(f, lines);
        return f;
    }

    @Test
    void aValidFileGivesExitZeroAndOneSummaryLine() throws Exception {
        Cli.Result r = Cli.run("validate", write(validLines()).toString());
        assertEquals(0, r.code(), r.out());
        assertEquals(1, r.out().lines().count(), r.out());
        assertTrue(r.out().startsWith("valid: "), r.out());
    }

    @Test
    void theGoldenExportIsValid() throws Exception {
        Path f = tmp.resolve("golden.jsonl");
        Files.write(f, ExportGoldenTest.golden());
        Cli.Result r = Cli.run("validate", f.toString());
        assertEquals(0, r.code(), r.out());
    }

    static Stream<Arguments> defects() {
        return Stream.of(
                Arguments.of(Defect.Kind.MALFORMED_JSON, 2, "{\"type\":\"route\",\"req_id\":0,"),
                Arguments.of(Defect.Kind.META_MISSING, 1, route(0, 5, 0, "[3,1]", "[0.6,0.3]")),
                Arguments.of(Defect.Kind.META_FIELD, 1, META.replace("\"model_id\":\"m\",", "")),
                Arguments.of(Defect.Kind.META_FIELD, 1, META.replace("\"seed\":1", "\"seed\":\"one\"")),
                Arguments.of(Defect.Kind.UNKNOWN_SCHEMA, 1, META.replace("\"schema_version\":1", "\"schema_version\":9")),
                Arguments.of(Defect.Kind.UNKNOWN_TYPE, 3, "{\"type\":\"step\",\"req_id\":0}"),
                Arguments.of(Defect.Kind.ROUTE_FIELD, 2, route("\"x\"", 0, 0, "[3,1]", "[0.6,0.3]")
                        .replace("\"token_idx\":0", "\"token_idx\":\"0\"")),
                Arguments.of(Defect.Kind.ROUTE_FIELD, 2, route(0, 0, 0, "[3,1]", "[0.6,0.3]")
                        .replace(",\"layer\":0", "")),
                Arguments.of(Defect.Kind.ROUTE_FIELD, 2, route(1.5, 0, 0, "[3,1]", "[0.6,0.3]")),
                Arguments.of(Defect.Kind.TOPK_LENGTH, 2, route(0, 0, 0, "[3,1,2]", "[0.6,0.3,0.1]")),
                Arguments.of(Defect.Kind.TOPK_DUPLICATE, 2, route(0, 0, 0, "[3,3]", "[0.6,0.3]")),
                Arguments.of(Defect.Kind.TOPK_RANGE, 2, route(0, 0, 0, "[3,8]", "[0.6,0.3]")),
                Arguments.of(Defect.Kind.TOPK_RANGE, 2, route(0, 0, 0, "[-1,3]", "[0.6,0.3]")),
                Arguments.of(Defect.Kind.WEIGHTS_LENGTH, 2, route(0, 0, 0, "[3,1]", "[0.6]")),
                Arguments.of(Defect.Kind.WEIGHT_NOT_FINITE, 2, route(0, 0, 0, "[3,1]", "[NaN,0.3]")),
                Arguments.of(Defect.Kind.WEIGHT_RANGE, 2, route(0, 0, 0, "[3,1]", "[0.6,-0.1]")),
                Arguments.of(Defect.Kind.WEIGHTS_INCREASING, 2, route(0, 0, 0, "[3,1]", "[0.3,0.6]")),
                Arguments.of(Defect.Kind.WEIGHTS_SUM, 2, route(0, 0, 0, "[3,1]", "[0.9,0.8]")),
                Arguments.of(Defect.Kind.LAYER_NOT_LOGGED, 2, route(0, 0, 5, "[3,1]", "[0.6,0.3]")),
                Arguments.of(Defect.Kind.TOKEN_ORDER, 3, route(0, 0, 0, "[0,7]", "[0.5,0.25]")));
    }

    @ParameterizedTest(name = "{0} on line {1}")
    @MethodSource("defects")
    void eachKindOfDefectIsCaughtWithItsLineNumber(Defect.Kind kind, int line, String replacement) throws Exception {
        List<String> lines = validLines();
        lines.set(line - 1, replacement);
        Cli.Result r = Cli.run("validate", write(lines).toString());
        assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out());
        assertTrue(r.out().contains("line " + line + ": "), r.out());
        assertTrue(r.out().contains(kind.label()), () -> "expected " + kind + " in:\n" + r.out());
    }

    @Test
    void listingIsCappedButTotalsCountEveryDefect() throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add(META);
        for (int i = 0; i < 30; i++) {
            lines.add(route(0, i, 0, "[3,3]", "[0.6,0.3]"));
        }
        Cli.Result r = Cli.run("validate", write(lines).toString(), "--max-listed", "5");
        assertEquals(1, r.code());
        assertEquals(5, r.out().lines().filter(l -> l.startsWith("line ")).count(), r.out());
        assertTrue(r.out().contains("25 more defects"), r.out());
        assertTrue(r.out().contains("30 defects in 30 route lines (30 duplicate expert in topk_ids)"), r.out());
    }

    @Test
    void anEmptyFileIsADefect() throws Exception {
        Cli.Result r = Cli.run("validate", write(List.of()).toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("empty"), r.out());
    }

    // --- against a run report: the golden queue is requests 0 (3 prompt + 3 generated) and 1 (2 + 2) ---

    static String run(long tokensForwarded, String moeLayers, String requests) {
        return "{\"label\":\"agent\",\"num_experts\":8,\"top_k\":2,\"tokens_forwarded\":" + tokensForwarded
                + ",\"moe_layers\":" + moeLayers + ",\"requests\":" + requests + "}";
    }

    static final String REQUESTS = "[{\"req_id\":0,\"prompt_tokens\":3,\"generated_tokens\":3},"
            + "{\"req_id\":1,\"prompt_tokens\":2,\"generated_tokens\":2}]";

    Cli.Result validateGoldenAgainst(String runJson) throws Exception {
        Path f = tmp.resolve("golden.jsonl");
        Files.write(f, ExportGoldenTest.golden());
        Path run = tmp.resolve("run.json");
        Files.writeString(run, runJson);
        return Cli.run("validate", f.toString(), "--run", run.toString());
    }

    @Test
    void goldenMatchesItsRunReport() throws Exception {
        Cli.Result r = validateGoldenAgainst(run(8, "[0,1]", REQUESTS));
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("matching"), r.out());
    }

    @Test
    void aCountOtherThanTokensForwardedIsADefect() throws Exception {
        Cli.Result r = validateGoldenAgainst(run(9, "[0,1]", REQUESTS));
        assertEquals(1, r.code());
        assertTrue(r.out().contains(Defect.Kind.RUN_LAYER_COUNT.label()), r.out());
        assertTrue(r.out().contains("layer 0 has 8 route lines; the run forwarded 9"), r.out());
    }

    @Test
    void missingPositionsOfARequestAreADefect() throws Exception {
        Cli.Result r = validateGoldenAgainst(run(8, "[0,1]", REQUESTS.replace(
                "\"prompt_tokens\":2,\"generated_tokens\":2", "\"prompt_tokens\":2,\"generated_tokens\":4")));
        assertEquals(1, r.code());
        assertTrue(r.out().contains("request 1 layer 0: 2 of positions 0..4 missing"), r.out());
    }

    @Test
    void positionsBeyondARequestAreADefect() throws Exception {
        Cli.Result r = validateGoldenAgainst(run(8, "[0,1]", REQUESTS.replace(
                "\"prompt_tokens\":3,\"generated_tokens\":3", "\"prompt_tokens\":3,\"generated_tokens\":1")));
        assertEquals(1, r.code());
        assertTrue(r.out().contains(Defect.Kind.RUN_POSITION_BEYOND.label()), r.out());
    }

    @Test
    void aRequestTheRunDidNotHaveIsADefect() throws Exception {
        Cli.Result r = validateGoldenAgainst(run(8, "[0,1]",
                "[{\"req_id\":0,\"prompt_tokens\":3,\"generated_tokens\":3}]"));
        assertEquals(1, r.code());
        assertTrue(r.out().contains("req_id 1 (6 lines) is not among the run report's requests"), r.out());
    }

    @Test
    void aLoggedLayerThatIsNotMoeIsADefect() throws Exception {
        Cli.Result r = validateGoldenAgainst(run(8, "[0]", REQUESTS));
        assertEquals(1, r.code());
        assertTrue(r.out().contains(Defect.Kind.RUN_MISMATCH.label()), r.out());
    }

    @Test
    void aRunReportThatIsNotOneIsBadInput() throws Exception {
        Cli.Result r = validateGoldenAgainst("{\"label\":\"x\"}");
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("no 'tokens_forwarded' field"), r.err());
    }
}
