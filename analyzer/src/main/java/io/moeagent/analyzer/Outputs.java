package io.moeagent.analyzer;

import io.moeagent.analyzer.source.ReadCounts;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;

/** Output files and where a command's own messages go. */
public final class Outputs {
    private Outputs() {
    }

    /** Opens FILE for writing ({@code -} is standard output), creating parent directories. */
    public static OutputStream open(String file) throws IOException {
        if ("-".equals(file)) {
            return new BufferedOutputStream(new FileOutputStream(java.io.FileDescriptor.out), 1 << 20) {
                @Override
                public void close() throws IOException {
                    flush();
                }
            };
        }
        Path p = Path.of(file);
        if (Files.isDirectory(p)) {
            throw new AnalyzerException("output " + file + " is a directory; name a file");
        }
        Path parent = p.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return new BufferedOutputStream(Files.newOutputStream(p), 1 << 20);
    }

    /** Messages about the run go to stderr when the data itself goes to stdout. */
    public static PrintWriter reportStream(CommandSpec spec, String out) {
        return "-".equals(out) ? spec.commandLine().getErr() : spec.commandLine().getOut();
    }

    public static void reportSkipped(CommandSpec spec, ReadCounts counts) {
        String skipped = counts.skippedSummary();
        if (skipped != null) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(spec.name() + ": " + skipped);
            err.flush();
        }
    }
}
