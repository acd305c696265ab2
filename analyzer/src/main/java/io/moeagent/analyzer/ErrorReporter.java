package io.moeagent.analyzer;

import io.moeagent.format.RouteFormatException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import picocli.CommandLine;

/** Turns an exception from a command into one line on stderr (plus the stack trace with --verbose). */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandName() + ": " + describe(ex));
        if (verbose(parsed)) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ExitCodes.BAD_INPUT;
    }

    static String describe(Throwable ex) {
        if (ex instanceof AnalyzerException || ex instanceof RouteFormatException) {
            return ex.getMessage();
        }
        if (ex instanceof UncheckedIOException u) {
            ex = u.getCause();
        }
        if (ex instanceof java.nio.file.NoSuchFileException e) {
            return "no such file: " + e.getFile();
        }
        if (ex instanceof java.nio.file.AccessDeniedException e) {
            return "permission denied: " + e.getFile();
        }
        if (ex instanceof IOException) {
            return "I/O error: " + ex.getMessage();
        }
        return "unexpected error: " + ex + " (run with --verbose for the stack trace, and report it)";
    }

    private static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return Arrays.asList(parsed.originalArgs().toArray(new String[0])).contains("--verbose");
    }
}
