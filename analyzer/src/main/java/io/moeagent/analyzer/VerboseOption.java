package io.moeagent.analyzer;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code --verbose} on every command: stack traces for errors. */
public final class VerboseOption {
    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces for errors.")
    boolean verbose;

    public boolean verbose() {
        return verbose;
    }
}
