package io.moeagent.host.generate;

/** Counters of one generation run, and every forward step's wall time in the order the steps ran. */
public final class GenerationStats {
    long promptTokens;
    long generatedTokens;
    long tokensForwarded;
    long prefillNanos;
    long decodeNanos;
    long steps;
    private long[] stepNanos = new long[64];
    private boolean[] stepPrefill = new boolean[64];
    private int timedSteps;

    /** Times one forward step (the model's forward call, prefill or decode): adds it to the phase's total. */
    void timeStep(boolean prefill, long nanos) {
        if (prefill) {
            prefillNanos += nanos;
        } else {
            decodeNanos += nanos;
        }
        if (timedSteps == stepNanos.length) {
            stepNanos = java.util.Arrays.copyOf(stepNanos, 2 * timedSteps);
            stepPrefill = java.util.Arrays.copyOf(stepPrefill, 2 * timedSteps);
        }
        stepNanos[timedSteps] = nanos;
        stepPrefill[timedSteps++] = prefill;
    }

    /** Wall time of each prefill step (nanoseconds), in order. */
    public long[] prefillStepNanos() {
        return steps(true);
    }

    /** Wall time of each decode step (nanoseconds), in order. */
    public long[] decodeStepNanos() {
        return steps(false);
    }

    private long[] steps(boolean prefill) {
        return java.util.stream.IntStream.range(0, timedSteps).filter(i -> stepPrefill[i] == prefill)
                .mapToLong(i -> stepNanos[i]).toArray();
    }

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
