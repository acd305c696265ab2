package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failing command leaves an existing output file as it was, and no temporary file beside it. */
class AtomicOutputsTest {
    @TempDir
    Path tmp;

    void assertUntouched(Path dir, Path out, String content) throws Exception {
        assertEquals(content, Files.readString(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "a temporary file was left behind");
        }
    }

    @Test
    void aFailingExportDoesNotTruncateTheExistingOut() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeGolden(q);
        Path outDir = Files.createDirectories(tmp.resolve("out"));
        Path out = Files.writeString(outDir.resolve("routes.jsonl"), "yesterday's export\n");
        BadInputTest.assertOneClearError(Cli.run("export", "--queue", q.toString(), "--out", out.toString(),
                "--layers", "7"), "none of these layers was recorded");
        assertUntouched(outDir, out, "yesterday's export\n");
        BadInputTest.assertOneClearError(Cli.run("merge", "--queue", q.toString(), "--out", out.toString(),
                "--layers", "7"), "none of these layers was recorded");
        assertUntouched(outDir, out, "yesterday's export\n");
    }

    @Test
    void aTruncatedQueueThatCannotBeReadLeavesTheOutAlone() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRunV2(q, 5, 8, 2, new int[] {0}, 1, 2, 2, 1);
        Path cq4;
        try (Stream<Path> s = Files.list(q)) {
            cq4 = s.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        try (var ch = java.nio.channels.FileChannel.open(cq4, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(4096);
        }
        Path outDir = Files.createDirectories(tmp.resolve("out"));
        Path out = Files.writeString(outDir.resolve("routes.jsonl"), "keep\n");
        BadInputTest.assertOneClearError(Cli.run("export", "--queue", q.toString(), "--out", out.toString()),
                "cut short at 4096 bytes");
        assertUntouched(outDir, out, "keep\n");
    }

    @Test
    void statsJsonAndPlotsReplaceTheirFilesWhole() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeGolden(q);
        Path outDir = Files.createDirectories(tmp.resolve("out"));
        Path json = Files.writeString(outDir.resolve("stats.json"), "old");
        assertEquals(0, Cli.run("stats", "--queue", q.toString(), "--json", json.toString()).code());
        assertTrue(Files.readString(json).startsWith("{"), Files.readString(json));
        Path png = outDir.resolve("h.png");
        assertEquals(0, Cli.run("plot", "--queue", q.toString(), "--out", png.toString()).code());
        try (Stream<Path> s = Files.list(outDir)) {
            assertEquals(2, s.count(), "a temporary file was left behind");
        }
    }
}
