package io.moeagent.agent.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueueFilesTest {
    @TempDir
    Path dir;

    @Test
    void retentionKeepsTheNewestCycleFiles() throws Exception {
        for (String name : List.of("20261124F.cq4", "20261125F.cq4", "20261126F.cq4", "metadata.cq4t")) {
            Files.writeString(dir.resolve(name), "x");
        }
        QueueFiles.prune(dir, 2);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("20261125F.cq4", "20261126F.cq4", "metadata.cq4t"),
                    s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
        }
    }
}
