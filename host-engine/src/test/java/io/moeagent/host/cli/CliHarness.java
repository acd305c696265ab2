package io.moeagent.host.cli;

import io.moeagent.host.HostMain;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs the host CLI in-process, capturing stdout and stderr. */
public final class CliHarness {
    /** Shared by all CLI tests so the synthetic checkpoint is written once per build. */
    public static final Path CACHE = Path.of("target", "test-moe-cache").toAbsolutePath();

    public final int exitCode;
    public final String out;
    public final String err;

    private CliHarness(int exitCode, String out, String err) {
        this.exitCode = exitCode;
        this.out = out;
        this.err = err;
    }

    public static CliHarness run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = HostMain.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        return new CliHarness(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
