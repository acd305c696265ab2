package io.moeagent.host.serve;

/** A request the server refuses with a 4xx status; the message tells the client what to fix. */
final class BadRequest extends RuntimeException {
    private final int status;

    BadRequest(String message) {
        this(400, message);
    }

    BadRequest(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }
}
