package io.moeagent.host.model;

import java.util.Map;

/**
 * What one forward step is computing: which request and which position each routed token row belongs to.
 * Row i of every {@link Router#selectExperts} call in this step is token {@code positions[i]} (0-based, prompt
 * then generated) of request {@code requestIds[i]}. Only the first {@code tokens} entries are meaningful.
 * Built once per step by the generator and passed unchanged to every layer.
 */
public final class StepContext {
    /** Increases by one per forward step of this engine instance. */
    public final long stepId;
    /** True for the prompt pass, false for a one-token-per-request decode step. */
    public final boolean prefill;
    /** Number of routed token rows. */
    public final int tokens;
    /** [tokens] request id of each routed row. */
    public final long[] requestIds;
    /** [tokens] position of each routed row within its request. */
    public final int[] positions;
    /** Facts about the running model (model_id, engine, device, dtype, seed, ...), the same object every step. */
    public final Map<String, String> runInfo;

    public StepContext(long stepId, boolean prefill, int tokens, long[] requestIds, int[] positions,
                       Map<String, String> runInfo) {
        this.stepId = stepId;
        this.prefill = prefill;
        this.tokens = tokens;
        this.requestIds = requestIds;
        this.positions = positions;
        this.runInfo = runInfo;
    }
}
