package io.moeagent.host.generate;

/**
 * How the next token is chosen: greedy (argmax) when {@code temperature <= 0}, otherwise sampled from
 * {@code softmax(logits / temperature)} restricted to the top-p nucleus, with a random stream per request derived
 * from {@code seed} and the request id (so batching does not change a request's tokens).
 */
public record SamplingConfig(double temperature, double topP, long seed) {
    public SamplingConfig {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
    }

    public static SamplingConfig greedy(long seed) {
        return new SamplingConfig(0, 1, seed);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
