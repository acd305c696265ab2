package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;

/** The MLP half of a decoder layer: a sparse MoE block, or a dense SwiGLU MLP on layers listed as mlp-only. */
public interface FeedForward {
    /**
     * x: [T, H] -> [T, H]; a routed block appends its router decision to {@code trace} when that is not null.
     */
    NDArray apply(NDArray x, StepContext step, java.util.List<ExpertSelection> trace);

    /** True when only real token rows may be passed in (the router must never see padding). */
    boolean routed();

    /** A dense MLP applied to every row. */
    static FeedForward dense(SwiGluMlp mlp) {
        return new FeedForward() {
            @Override
            public NDArray apply(NDArray x, StepContext step, java.util.List<ExpertSelection> trace) {
                return mlp.apply(x);
            }

            @Override
            public boolean routed() {
                return false;
            }
        };
    }
}
