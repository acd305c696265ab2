package io.moeagent.host.generate;

/** Counters of one generation run. */
public final class GenerationStats {
    long promptTokens;
    long generatedTokens;
    long tokensForwarded;
    long prefillNanos;
    long decodeNanos;
    long steps;

    public long promptTokens() {
        return promptTokens;
    }

    public long generatedTokens() {
        return generatedTokens;
    }

    /** Token rows routed per MoE layer: every prompt token and every generated token fed back. */
    public long tokensForwarded() {
        return tokensForwarded;
    }

    public double prefillMillis() {
        return prefillNanos / 1e6;
    }

    public double decodeMillis() {
        return decodeNanos / 1e6;
    }

    public long steps() {
        return steps;
    }
}
