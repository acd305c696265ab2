package io.moeagent.host.cli;

/** A problem with the user's input whose message says what, where, and what to do; printed without a stack trace. */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
