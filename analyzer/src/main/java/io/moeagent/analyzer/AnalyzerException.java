package io.moeagent.analyzer;

/** Bad input the user can fix; its message says what, where and what to do, and is all that gets printed. */
public final class AnalyzerException extends RuntimeException {
    public AnalyzerException(String message) {
        super(message);
    }

    public AnalyzerException(String message, Throwable cause) {
        super(message, cause);
    }
}
