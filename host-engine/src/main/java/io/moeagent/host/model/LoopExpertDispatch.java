package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;

/**
 * One small batch per expert that was hit. The (token, slot) pairs are sorted by expert in Java, the rows gathered
 * once and split into per-expert views, so an expert costs only its own matmuls. Cheapest on the CPU, where an op
 * costs microseconds and experts that were not hit cost nothing.
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
        // indices[0, pairs): the token of each row in expert order (a counting sort of the pairs by expert);
        // indices[pairs, 2 * pairs): the inverse, the row of pair t * k + j. One array, so one transfer.
        long[] indices = new long[2 * pairs];
        int[] fill = start.clone();
        for (int pair = 0; pair < pairs; pair++) {
            int row = fill[selection.expertIds[pair]]++;
            indices[row] = pair / selection.k;
            indices[pairs + pair] = row;
        }
        NDList both = x.getManager().create(indices).split(2);
        NDArray sortedRows = x.get(new NDIndex("{}", both.get(0))); // [T*k, H], grouped by expert
        NDList perExpert = experts.length == 1 ? new NDList(sortedRows) : sortedRows.split(boundaries(start), 0);
        NDList outputs = new NDList();
        for (int e = 0; e < experts.length; e++) {
            if (count[e] > 0) {
                outputs.add(experts[e].apply(perExpert.get(e)));
            }
        }
        NDArray expertRows = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 0); // [T*k, H]
        return ExpertDispatch.combine(expertRows, both.get(1), selection);
    }

    /** split points between the experts' row ranges: start[1..E-1] */
    private static long[] boundaries(int[] start) {
        long[] points = new long[start.length - 2];
        for (int e = 1; e < start.length - 1; e++) {
            points[e - 1] = start[e];
        }
        return points;
    }
}
