package io.moeagent.analyzer;

import io.moeagent.analyzer.source.ReadCounts;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;

/** Where a command's own messages go. Output files: {@link io.moeagent.analyzer.io.AtomicOutput}. */
public final class Outputs {
    private Outputs() {
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
