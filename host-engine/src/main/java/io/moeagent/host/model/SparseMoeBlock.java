package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;

/**
 * Qwen2-MoE sparse block: routed experts weighted by the router, plus a shared expert scaled by
 * {@code sigmoid(shared_expert_gate(x))}.
 */
public final class SparseMoeBlock implements FeedForward {
    private final Router router;
    private final ExpertDispatch experts;
    /** shared expert, or null when shared_expert_intermediate_size is 0 */
    private final SwiGluMlp sharedExpert;
    /** shared_expert_gate [1, H], no bias */
    private final Linear sharedExpertGate;

    public SparseMoeBlock(Router router, ExpertDispatch experts, SwiGluMlp sharedExpert, Linear sharedExpertGate) {
        this.router = router;
        this.experts = experts;
        this.sharedExpert = sharedExpert;
        this.sharedExpertGate = sharedExpertGate;
    }

    /** x: [T, H] real token rows -> [T, H] */
    @Override
    public NDArray apply(NDArray x, StepContext step, java.util.List<ExpertSelection> trace) {
        ExpertSelection selection = router.selectExperts(x, step);
        if (trace != null) {
            trace.add(selection);
        }
        NDArray routed = experts.apply(x, selection);
        if (sharedExpert == null) {
            return routed;
        }
        NDArray shared = sharedExpert.apply(x).mul(sharedExpertGate.apply(x).getNDArrayInternal().sigmoid());
        return routed.add(shared);
    }

    @Override
    public boolean routed() {
        return true;
    }
}
