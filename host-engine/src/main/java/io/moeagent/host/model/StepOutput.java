package io.moeagent.host.model;

import java.util.List;

/** What a forward step returns to Java: next-token logits of each row's last column, and optionally the routes. */
public final class StepOutput {
    private final float[] logits;
    private final int vocabSize;
    private final List<ExpertSelection> routes;

    StepOutput(float[] logits, int vocabSize, List<ExpertSelection> routes) {
        this.logits = logits;
        this.vocabSize = vocabSize;
        this.routes = routes;
    }

    /** [B * V] fp32 logits, row b at offset b * V. */
    public float[] logits() {
        return logits;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /**
     * The router decision of every MoE layer in layer order, when the step asked for a trace (else empty). Only
     * the Java arrays stay valid after the step.
     */
    public List<ExpertSelection> routes() {
        return routes;
    }
}
