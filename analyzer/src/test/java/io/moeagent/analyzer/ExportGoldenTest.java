package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportGoldenTest {
    @TempDir
    Path tmp;

    static byte[] golden() throws Exception {
        try (InputStream in = ExportGoldenTest.class.getResourceAsStream("/golden/routes.jsonl")) {
            assertNotNull(in, "golden file missing");
            return in.readAllBytes();
        }
    }

    @Test
    void exportMatchesTheCheckedInGoldenFileByteForByte() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeGolden(q);
        Path out = tmp.resolve("routes.jsonl");
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        if (Boolean.getBoolean("golden.update")) {
            Files.copy(out, Path.of("src/test/resources/golden/routes.jsonl"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        assertArrayEquals(golden(), Files.readAllBytes(out),
                () -> "export differs from golden:\n" + new String(uncheckedRead(out), StandardCharsets.UTF_8));
        assertTrue(r.out().contains("exported 16 route lines"), r.out());
        assertTrue(r.err().contains("1 route records with no step record"), r.err());
        assertTrue(r.err().contains("2 pad rows"), r.err());
    }

    static byte[] goldenV2() throws Exception {
        try (InputStream in = ExportGoldenTest.class.getResourceAsStream("/golden/routes-v2.jsonl")) {
            assertNotNull(in, "golden file missing");
            return in.readAllBytes();
        }
    }

    /** JSONL schema 2: run_id/host/expert_order in meta, token_id on route lines, each row's own phase. */
    @Test
    void schema2ExportMatchesItsGoldenFileByteForByte() throws Exception {
        Path q = tmp.resolve("q2");
        TestQueues.writeGoldenV2(q);
        Path out = tmp.resolve("routes-v2.jsonl");
        Cli.Result r = Cli.run("export", "--queue", q.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        if (Boolean.getBoolean("golden.update")) {
            Files.copy(out, Path.of("src/test/resources/golden/routes-v2.jsonl"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        assertArrayEquals(goldenV2(), Files.readAllBytes(out),
                () -> "export differs from golden:\n" + new String(uncheckedRead(out), StandardCharsets.UTF_8));
        assertTrue(r.err().contains("1 route records with no step record"), r.err());
        assertTrue(r.err().contains("2 pad rows"), r.err());
        List<String> lines = Files.readAllLines(out);
        // the mixed step: request 1's first token is prefill, request 0's fourth is decode
        assertTrue(lines.contains("{\"type\":\"route\",\"req_id\":1,\"token_idx\":0,\"layer\":0,\"phase\":\"prefill\","
                + "\"token_id\":872,\"topk_ids\":[6,2],\"topk_weights\":[0.375,0.125]}"), String.join("\n", lines));
        assertEquals(0, Cli.run("validate", out.toString()).code());
    }

    @Test
    void exportingTwiceGivesIdenticalBytes() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 60, 4, new int[] {0, 1, 2}, 3, 7, 5, true, 7);
        Path a = tmp.resolve("a.jsonl");
        Path b = tmp.resolve("b.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", a.toString()).code());
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", b.toString()).code());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        // 3 requests x (7 prompt + 4 fed-back generated) x 3 layers, plus the meta line
        assertEquals(1 + 3 * 11 * 3, Files.readAllLines(a).size());
    }

    @Test
    void layerAndPhaseFiltersNarrowTheExportAndTheMetaLine() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeGolden(q);
        Path out = tmp.resolve("l1.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", out.toString(), "--layers", "1",
                "--phase", "decode").code());
        List<String> lines = Files.readAllLines(out);
        assertTrue(lines.get(0).contains("\"layers_logged\":[1]"), lines.get(0));
        assertTrue(lines.get(0).contains("\"phases_exported\":\"decode\""), lines.get(0));
        assertEquals(1 + 3, lines.size());
        lines.subList(1, lines.size()).forEach(l -> {
            assertTrue(l.contains("\"layer\":1,"), l);
            assertTrue(l.contains("\"phase\":\"decode\""), l);
        });
    }

    @Test
    void idsOnlyQueueExportsNullWeights() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 8, 2, new int[] {0}, 1, 2, 1, false, 1);
        Path out = tmp.resolve("ids.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", out.toString()).code());
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size());
        assertTrue(lines.get(1).endsWith("\"topk_weights\":null}"), lines.get(1));
        assertEquals(0, Cli.run("validate", out.toString()).code());
    }

    private static byte[] uncheckedRead(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
