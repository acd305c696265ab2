package io.moeagent.host.generate;

import java.util.SplittableRandom;

/** Picks one request's next tokens from logits, in Java (DJL has no multinomial sampling). */
public final class TokenSampler {
    private final SamplingConfig config;
    private final SplittableRandom random;

    public TokenSampler(SamplingConfig config, long requestId) {
        this.config = config;
        // a stream per request, independent of which batch the request lands in
        this.random = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + requestId);
    }

    /** The next token from {@code logits[offset, offset + vocab)}. */
    public long next(float[] logits, int offset, int vocab) {
        if (config.greedy()) {
            return argMax(logits, offset, vocab);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double[] probabilities = new double[vocab];
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            probabilities[i] = Math.exp((logits[offset + i] - max) / config.temperature());
            sum += probabilities[i];
        }
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
            probabilities[i] /= sum;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(probabilities[b], probabilities[a]));
        int nucleus = 0;
        double mass = 0;
        while (nucleus < vocab && (nucleus == 0 || mass < config.topP())) {
            mass += probabilities[order[nucleus++]];
        }
        double target = random.nextDouble() * mass;
        double cumulative = 0;
        for (int i = 0; i < nucleus; i++) {
            cumulative += probabilities[order[i]];
            if (target < cumulative) {
                return order[i];
            }
        }
        return order[nucleus - 1];
    }

    /** Index of the largest logit; the lowest index on ties. */
    static long argMax(float[] logits, int offset, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[offset + i] > logits[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
