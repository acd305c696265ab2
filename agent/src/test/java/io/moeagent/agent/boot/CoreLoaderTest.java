package io.moeagent.agent.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoreLoaderTest {
    @TempDir
    Path parent;

    private final Instant now = Instant.parse("2026-11-26T12:00:00Z");

    private Path build(String name, Duration age) throws Exception {
        Path dir = Files.createDirectories(parent.resolve(name));
        Files.writeString(dir.resolve("byte-buddy.jar"), "jar");
        Files.createDirectories(dir.resolve("nested"));
        Files.writeString(dir.resolve("nested/x.part"), "part");
        Files.setLastModifiedTime(dir, FileTime.from(now.minus(age)));
        return dir;
    }

    @Test
    void deletesOnlyOtherBuildsOlderThanSevenDays() throws Exception {
        Path current = build("bf6ba2-1a219814f94", Duration.ofDays(30));
        Path stale = build("bf6b00-1a200000000", Duration.ofDays(8));
        Path staler = build("c00000-1a100000000", Duration.ofDays(400));
        Path recent = build("bf6b11-1a210000000", Duration.ofDays(6));
        Path foreign = build("not-a-build", Duration.ofDays(30));
        Path plainFile = Files.writeString(parent.resolve("abc-def"), "x");
        Files.setLastModifiedTime(plainFile, FileTime.from(now.minus(Duration.ofDays(30))));

        assertEquals(2, CoreLoader.pruneStale(parent, current, now));

        assertFalse(Files.exists(stale));
        assertFalse(Files.exists(staler));
        assertTrue(Files.isRegularFile(current.resolve("byte-buddy.jar")), "never the current one, however old");
        assertTrue(Files.isRegularFile(recent.resolve("byte-buddy.jar")));
        assertTrue(Files.isDirectory(foreign), "only <size>-<mtime> folders are the agent's");
        assertTrue(Files.isRegularFile(plainFile), "only folders");
    }

    @Test
    void aSymbolicLinkIsRemovedWithoutFollowingIt() throws Exception {
        Path current = build("1-1", Duration.ZERO);
        Path outside = Files.createDirectories(parent.resolve("outside"));
        Path keep = Files.writeString(outside.resolve("keep.jar"), "keep");
        Path stale = build("2-2", Duration.ZERO);
        Files.createSymbolicLink(stale.resolve("link"), outside);
        Files.setLastModifiedTime(stale, FileTime.from(now.minus(Duration.ofDays(8))));

        assertEquals(1, CoreLoader.pruneStale(parent, current, now));
        assertFalse(Files.exists(stale));
        assertTrue(Files.isRegularFile(keep));
    }

    @Test
    void neverThrows() {
        assertEquals(0, CoreLoader.pruneStale(parent.resolve("missing"), parent.resolve("missing/1-1"), now));
        assertEquals(0, CoreLoader.pruneStale(parent, parent.resolve("1-1"), now), "empty folder");
    }
}
