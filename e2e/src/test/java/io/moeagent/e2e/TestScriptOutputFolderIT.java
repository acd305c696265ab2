package io.moeagent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * test.sh deletes only a folder it created (marked by a file): given an OUT that holds someone's files, or a file,
 * it refuses with exit 2 before building or running anything, and deletes nothing.
 */
class TestScriptOutputFolderIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    record Run(int code, String output) {
    }

    static Run testSh(Path out) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "test.sh").directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("OUT", out.toString());
        // never reached: the folder check comes first
        pb.environment().put("JAVA", "/nonexistent/java");
        Process p = pb.start();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "test.sh did not finish");
        return new Run(p.exitValue(), new String(bytes, StandardCharsets.UTF_8));
    }

    @Test
    void aFolderWithSomeoneElsesFilesIsKept() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("thesis"));
        Path precious = Files.writeString(out.resolve("chapter1.tex"), "months of work");
        Run r = testSh(out);
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("is a folder test.sh did not create"), r.output());
        assertEquals("months of work", Files.readString(precious));
        assertEquals(1, r.output().lines().count(), r.output());
    }

    @Test
    void aFileIsKept() throws Exception {
        Path file = Files.writeString(tmp.resolve("notes.txt"), "keep");
        Run r = testSh(file);
        assertEquals(2, r.code(), r.output());
        assertEquals("keep", Files.readString(file));
    }
}
