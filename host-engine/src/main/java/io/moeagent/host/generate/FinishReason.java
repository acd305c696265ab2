package io.moeagent.host.generate;

/** Why a request stopped, in OpenAI's words. */
public enum FinishReason {
    /** It generated an end-of-sequence token (kept as its last generated id). */
    STOP("stop"),
    /** It reached its max new tokens. */
    LENGTH("length");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
