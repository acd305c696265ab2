package io.moeagent.host.model;

import ai.djl.Device;

/** How a MoE layer lays out expert work: see {@link LoopExpertDispatch} and {@link StackedExpertDispatch}. */
public enum ExpertLayout {
    /** One batch per expert that was hit: best where ops are cheap (CPU). */
    LOOP,
    /** All experts in two batched matmuls: best where ops are expensive to launch (GPU). */
    STACKED,
    /** STACKED on a GPU, LOOP elsewhere. */
    AUTO;

    public ExpertLayout resolve(Device device) {
        if (this != AUTO) {
            return this;
        }
        return device.isGpu() ? STACKED : LOOP;
    }
}
