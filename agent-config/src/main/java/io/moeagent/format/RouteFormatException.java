package io.moeagent.format;

/** A queue or a record that does not follow {@link RouteFormat}. The message names what and where. */
public final class RouteFormatException extends RuntimeException {
    public RouteFormatException(String message) {
        super(message);
    }

    public RouteFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
