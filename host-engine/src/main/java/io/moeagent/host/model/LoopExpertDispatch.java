package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;

/**
 * One small batch per expert that was hit: gather its rows, run it, then combine. Cheapest on the CPU, where
 * an op costs microseconds and skipped experts cost nothing.
 */
public final class LoopExpertDispatch implements ExpertDispatch {
    private final SwiGluMlp[] experts;

    public LoopExpertDispatch(SwiGluMlp[] experts) {
        this.experts = experts;
    }

    @Override
    public NDArray apply(NDArray x, ExpertSelection selection) {
        int pairs = selection.tokens * selection.k;
        int[] count = new int[experts.length];
        for (int id : selection.expertIds) {
            count[id]++;
        }
        int[] start = new int[experts.length + 1];
        for (int e = 0; e < experts.length; e++) {
            start[e + 1] = start[e] + count[e];
        }
        // counting sort of the (token, slot) pairs by expert; rowOfPair is the inverse permutation
        long[] tokenOfRow = new long[pairs];
        long[] rowOfPair = new long[pairs];
        int[] fill = start.clone();
        for (int pair = 0; pair < pairs; pair++) {
            int row = fill[selection.expertIds[pair]]++;
            tokenOfRow[row] = pair / selection.k;
            rowOfPair[pair] = row;
        }
        NDList outputs = new NDList();
        for (int e = 0; e < experts.length; e++) {
            if (count[e] == 0) {
                continue;
            }
            long[] rows = java.util.Arrays.copyOfRange(tokenOfRow, start[e], start[e + 1]);
            NDArray xe = x.get(new NDIndex("{}", x.getManager().create(rows))); // [n_e, H]
            outputs.add(experts[e].apply(xe));
        }
        NDArray expertRows = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 0); // [T*k, H]
        return ExpertDispatch.combine(expertRows, rowOfPair, selection);
    }
}
