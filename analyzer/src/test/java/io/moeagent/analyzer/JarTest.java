package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shaded jar as users run it: {@code java -jar analyzer.jar}, no JVM flags, on the build's Java and on
 * Java 25 where installed. Runs in the package phase, after the shade plugin (surefire execution "jar-test").
 */
@Tag("jar")
class JarTest {
    static final Path JAR = Path.of("target/analyzer.jar");
    static final Path JAVA_25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    static Stream<Path> javas() {
        List<Path> javas = new ArrayList<>();
        javas.add(Path.of(System.getProperty("java.home"), "bin", "java"));
        if (Files.isExecutable(JAVA_25)) {
            javas.add(JAVA_25);
        }
        return javas.stream();
    }

    Run java(Path java, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("stdout");
        Path err = tmp.resolve("stderr");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "analyzer.jar did not finish");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @MethodSource("javas")
    void javaJarNeedsNoFlagsAndExportsTheGoldenBytes(Path java) throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(JAR), "run in the package phase, after shade");
        Path q = tmp.resolve("q");
        TestQueues.writeGolden(q);
        Path out = tmp.resolve("routes.jsonl");
        Run r = java(java, "export", "--queue", q.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err().replaceAll("analyzer: skipped: .*\\R|export: skipped: .*\\R", ""),
                "nothing but the skipped-records note on stderr (no JVM warnings)");
        assertArrayEquals(ExportGoldenTest.golden(), Files.readAllBytes(out));

        Run stats = java(java, "stats", out.toString());
        assertEquals(0, stats.code(), stats.err());
        assertTrue(stats.out().contains("== all phases: 16 rows"), stats.out());

        Run bad = java(java, "stats", "--queue", tmp.resolve("missing").toString());
        assertEquals(ExitCodes.BAD_INPUT, bad.code());
        assertEquals(1, bad.err().lines().count(), bad.err());
        assertTrue(bad.err().contains("does not exist"), bad.err());
    }
}
