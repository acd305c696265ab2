package io.moeagent.analyzer;

/** The analyzer's exit statuses, shared by every command. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The input was read, and it failed a check (validate defects, compare digests differ). */
    public static final int CHECK_FAILED = 1;
    /** Bad command line or unreadable input (picocli also uses 2 for usage errors). */
    public static final int BAD_INPUT = 2;

    private ExitCodes() {
    }
}
