package io.moeagent.host.io;

/** A checkpoint that cannot be used; the message names the file or tensor and what to do. */
public final class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
