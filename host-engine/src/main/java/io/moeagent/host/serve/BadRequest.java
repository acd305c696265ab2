package io.moeagent.host.serve;

/** A request the server refuses with 400; the message tells the client what to fix. */
final class BadRequest extends RuntimeException {
    BadRequest(String message) {
        super(message);
    }
}
