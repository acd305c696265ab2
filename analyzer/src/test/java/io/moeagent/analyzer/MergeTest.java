package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MergeTest {
    @TempDir
    Path tmp;

    @Test
    void mergedIdsCarryTheirSourceAndTheMergedFileValidates() throws Exception {
        Path a = tmp.resolve("hostA");
        Path b = tmp.resolve("hostB");
        TestQueues.writeRun(a, 60, 4, new int[] {0, 1}, 2, 5, 3, true, 1);
        TestQueues.writeRun(b, 60, 4, new int[] {0, 1}, 3, 4, 2, true, 2);
        Path out = tmp.resolve("merged.jsonl");
        Cli.Result r = Cli.run("merge", "--queue", a.toString(), "--queue", "B=" + b, "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        long fromA = 2L * (5 + 2) * 2;
        long fromB = 3L * (4 + 1) * 2;
        assertEquals(1 + fromA + fromB, lines.size());
        assertTrue(lines.get(0).contains("\"sources\":[{\"source\":\"hostA\""), lines.get(0));
        assertTrue(lines.get(0).contains("{\"source\":\"B\""), lines.get(0));
        assertTrue(lines.get(1).contains("\"req_id\":\"hostA:0\""), lines.get(1));
        assertEquals(fromB, lines.stream().filter(l -> l.contains("\"req_id\":\"B:")).count());
        // request 0 exists in both queues; with the source in the id, token order per request still holds
        Cli.Result v = Cli.run("validate", out.toString());
        assertEquals(0, v.code(), v.out());
        assertEquals(0, Cli.run("stats", out.toString()).code());
    }

    @Test
    void queuesOfDifferentModelsAreRefused() {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        TestQueues.writeRun(a, 60, 4, new int[] {0}, 1, 2, 1, true, 1);
        TestQueues.writeRun(b, 8, 2, new int[] {0}, 1, 2, 1, true, 1);
        Cli.Result r = Cli.run("merge", "--queue", a.toString(), "--queue", b.toString(), "--out",
                tmp.resolve("m.jsonl").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("recorded different models"), r.err());
    }

    @Test
    void sameDirectoryNamesMustBeNamed() throws Exception {
        Path a = tmp.resolve("x/q");
        Path b = tmp.resolve("y/q");
        TestQueues.writeRun(a, 8, 2, new int[] {0}, 1, 2, 1, true, 1);
        TestQueues.writeRun(b, 8, 2, new int[] {0}, 1, 2, 1, true, 1);
        Cli.Result r = Cli.run("merge", "--queue", a.toString(), "--queue", b.toString(), "--out",
                tmp.resolve("m.jsonl").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("both named 'q'"), r.err());
    }
}
