package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * All experts in two batched matmuls over an {@code [E, C, H]} block padded to the busiest expert's row count C.
 * A fixed handful of ops per layer whatever the routing, which is what a GPU wants (kernel launches dominate
 * a per-expert loop there). Holds its own stacked copy of the expert weights.
 */
public final class StackedExpertDispatch implements ExpertDispatch {
    /** gate_proj and up_proj of every expert, transposed: [E, H, 2I] */
    private final NDArray gateUpT;
    /** down_proj of every expert, transposed: [E, I, H] */
    private final NDArray downT;
    private final int experts;
    private final long intermediate;

    /** Stacks the experts' weights on {@code manager}; the per-expert arrays may be closed afterwards. */
    public StackedExpertDispatch(SwiGluMlp[] mlps, NDManager manager) {
        this.experts = mlps.length;
        this.intermediate = mlps[0].gate().weight().getShape().get(0);
        // NDScope closes the per-expert concatenations and stacks; only the two results are kept
        try (NDScope scope = new NDScope()) {
            NDList gateUp = new NDList();
            NDList down = new NDList();
            for (SwiGluMlp mlp : mlps) {
                gateUp.add(NDArrays.concat(new NDList(mlp.gate().weight(), mlp.up().weight()), 0)); // [2I, H]
                down.add(mlp.down().weight()); // [H, I]
            }
            this.gateUpT = NDArrays.stack(gateUp).transpose(0, 2, 1).duplicate(); // [E, H, 2I]
            this.downT = NDArrays.stack(down).transpose(0, 2, 1).duplicate(); // [E, I, H]
            gateUpT.attach(manager);
            downT.attach(manager);
            NDScope.unregister(gateUpT, downT);
        }
    }

    @Override
    public NDArray apply(NDArray x, ExpertSelection selection) {
        int pairs = selection.tokens * selection.k;
        int[] count = new int[experts];
        for (int id : selection.expertIds) {
            count[id]++;
        }
        int capacity = 0;
        for (int c : count) {
            capacity = Math.max(capacity, c);
        }
        long padRow = selection.tokens; // index of an all-zero row appended to x
        long[] tokenOfSlot = new long[experts * capacity];
        java.util.Arrays.fill(tokenOfSlot, padRow);
        long[] rowOfPair = new long[pairs];
        int[] fill = new int[experts];
        for (int pair = 0; pair < pairs; pair++) {
            int e = selection.expertIds[pair];
            int slot = e * capacity + fill[e]++;
            tokenOfSlot[slot] = pair / selection.k;
            rowOfPair[pair] = slot;
        }
        long hidden = x.getShape().get(1);
        NDManager manager = x.getManager();
        NDArray padded = NDArrays.concat(new NDList(x, manager.zeros(new Shape(1, hidden), x.getDataType())), 0);
        NDArray blocks = padded.get(new NDIndex("{}", manager.create(tokenOfSlot)))
                .reshape(experts, capacity, hidden); // [E, C, H]
        NDArray gateUp = blocks.batchMatMul(gateUpT); // [E, C, 2I]
        NDArray gate = gateUp.get(new NDIndex("..., :{}", intermediate));
        NDArray up = gateUp.get(new NDIndex("..., {}:", intermediate));
        NDArray expertRows = SwiGluMlp.silu(gate).mul(up).batchMatMul(downT) // [E, C, H]
                .reshape(experts * (long) capacity, hidden);
        return ExpertDispatch.combine(expertRows, manager.create(rowOfPair), selection);
    }
}
