package io.moeagent.host.generate;

import io.moeagent.host.model.StepContext;

/** Told after every forward step what the step computed and how many tokens the run has generated so far. */
@FunctionalInterface
public interface GenerationProgress {
    GenerationProgress NONE = (step, generated, elapsedNanos) -> { };

    void onStep(StepContext step, long generatedTokens, long elapsedNanos);
}
