package io.moeagent.host.generate;

/** Told after every forward step how many tokens the run has generated so far. */
@FunctionalInterface
public interface GenerationProgress {
    GenerationProgress NONE = (generated, elapsedNanos) -> { };

    void onStep(long generatedTokens, long elapsedNanos);
}
