package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.List;

/** Pre-norm decoder layer: {@code h += attn(norm(h)); h += mlp(norm(h))}. */
public final class DecoderLayer {
    private final RmsNorm inputNorm;
    private final Attention attention;
    private final RmsNorm postAttentionNorm;
    private final FeedForward mlp;

    public DecoderLayer(RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, FeedForward mlp) {
        this.inputNorm = inputNorm;
        this.attention = attention;
        this.postAttentionNorm = postAttentionNorm;
        this.mlp = mlp;
    }

    /** hidden: [B * S, H] -> [B * S, H] */
    public NDArray apply(NDArray hidden, StepInput input, RotaryEmbedding.Tables rope, NDArray mask,
                         KvCache cache, RoutedRows routedRows, List<ExpertSelection> trace) {
        hidden = hidden.add(attention.apply(inputNorm.apply(hidden), input, rope, mask, cache));
        NDArray normed = postAttentionNorm.apply(hidden);
        NDArray update;
        if (!mlp.routed() || routedRows.all()) {
            update = mlp.apply(normed, input.context(), trace);
        } else {
            update = routedRows.scatter(mlp.apply(routedRows.gather(normed), input.context(), trace));
        }
        return hidden.add(update);
    }

    /** Continuous batching, hidden: packed [T, H] -> [T, H]; every token is routed, in the order of {@code context}. */
    NDArray applyPacked(NDArray hidden, PackedStepInput.Tensors step, StepContext context,
                        RotaryEmbedding.Tables rope, KvCache cache, List<ExpertSelection> trace) {
        hidden = hidden.add(attention.applyPacked(inputNorm.apply(hidden), step, rope, cache));
        return hidden.add(mlp.apply(postAttentionNorm.apply(hidden), context, trace));
    }

    /** Moves the routed rows out of the padded batch and back; rows that are not routed get a zero update. */
    static final class RoutedRows {
        private final NDArray gatherIndex;
        private final NDArray scatterIndex;

        private RoutedRows(NDArray gatherIndex, NDArray scatterIndex) {
            this.gatherIndex = gatherIndex;
            this.scatterIndex = scatterIndex;
        }

        static RoutedRows of(StepInput input, ai.djl.ndarray.NDManager manager) {
            if (input.routesAllRowsInOrder()) {
                return new RoutedRows(null, null);
            }
            long[] rows = input.routedRows();
            int total = input.batch() * input.length();
            long[] source = new long[total];
            java.util.Arrays.fill(source, rows.length); // the zero row appended after the routed rows
            for (int i = 0; i < rows.length; i++) {
                source[(int) rows[i]] = i;
            }
            return new RoutedRows(manager.create(rows), manager.create(source));
        }

        boolean all() {
            return gatherIndex == null;
        }

        /** [B * S, H] -> [T, H] */
        NDArray gather(NDArray x) {
            return x.get(new NDIndex("{}", gatherIndex));
        }

        /** [T, H] -> [B * S, H] */
        NDArray scatter(NDArray routed) {
            NDArray zero = routed.getManager().zeros(new Shape(1, routed.getShape().get(1)), routed.getDataType());
            return NDArrays.concat(new NDList(routed, zero), 0).get(new NDIndex("{}", scatterIndex));
        }
    }
}
