package io.moeagent.analyzer.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicOutputTest {
    @TempDir
    Path tmp;

    private long filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void aFailingWriterLeavesTheExistingFileUntouchedAndNoTemporaryFile() throws Exception {
        Path out = Files.writeString(tmp.resolve("routes.jsonl"), "precious\n");
        IOException thrown = assertThrows(IOException.class, () -> AtomicOutput.write(out, os -> {
            os.write("half a line".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("disk full", thrown.getMessage());
        assertEquals("precious\n", Files.readString(out));
        assertEquals(1, filesIn(tmp));
    }

    @Test
    void theOutputGetsTheModeAPlainFileWouldGet() throws Exception {
        Path plain = Files.createFile(tmp.resolve("plain"));
        Path out = tmp.resolve("stats.json");
        AtomicOutput.write(out, os -> os.write('x'));
        // reported: every output came out 0600 (createTempFile's mode) whatever the umask
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(out));
    }

    @Test
    void anErrorThrownMidWriteAlsoDiscards() throws Exception {
        Path out = Files.writeString(tmp.resolve("o.json"), "old");
        assertThrows(InternalError.class, () -> {
            try (AtomicOutput o = AtomicOutput.open(out)) {
                o.stream().write(new byte[3 << 20]);
                throw new InternalError("a fault occurred in a recent unsafe memory access");
            }
        });
        assertEquals("old", Files.readString(out));
        assertEquals(1, filesIn(tmp));
    }

    @Test
    void commitReplacesWholeAndCreatesParents() throws Exception {
        Path out = tmp.resolve("a/b/c.png");
        byte[] bytes = new byte[(3 << 20) + 7];
        bytes[bytes.length - 1] = 42;
        AtomicOutput.write(out, bytes);
        assertArrayEquals(bytes, Files.readAllBytes(out));
        AtomicOutput.write(out, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("new", Files.readString(out));
        assertEquals(1, filesIn(out.getParent()));
    }

    @Test
    void aDirectoryIsRefused() {
        assertThrows(io.moeagent.analyzer.AnalyzerException.class, () -> AtomicOutput.open(tmp));
    }
}
