package io.moeagent.host.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov &amp; Hutter: decoupled weight decay, bias-corrected moments) with global-norm gradient
 * clipping. Written here rather than using DJL's {@code Adam} because that one keeps its moments private and offers
 * no way to save and restore them, and an exact resume needs them. Weight decay applies to tensors of rank 2 and
 * more (not to norms and biases).
 */
final class AdamW {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.95;
    static final double EPS = 1e-8;

    /** first and second moments per parameter name */
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();

    AdamW(Map<String, NDArray> params, NDManager manager) {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            m.put(e.getKey(), manager.zeros(e.getValue().getShape()));
            v.put(e.getKey(), manager.zeros(e.getValue().getShape()));
        }
    }

    Map<String, NDArray> firstMoments() {
        return m;
    }

    Map<String, NDArray> secondMoments() {
        return v;
    }

    /** Replaces the moments with saved ones (exact copies). */
    void restore(Map<String, NDArray> first, Map<String, NDArray> second) {
        for (String name : m.keySet()) {
            m.get(name).close();
            v.get(name).close();
            m.put(name, first.get(name));
            v.put(name, second.get(name));
        }
    }

    /**
     * One update with the gradients held by {@code params} (step is 0-based), then zeroes the gradients.
     * Returns the gradient norm before clipping.
     */
    double step(Map<String, NDArray> params, int step, double lr, double weightDecay, double clip) {
        try (NDScope scope = new NDScope()) {
            Map<String, NDArray> grads = new LinkedHashMap<>();
            double squares = 0;
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray g = e.getValue().getGradient();
                grads.put(e.getKey(), g);
                squares += g.square().sum().getFloat();
            }
            double norm = Math.sqrt(squares);
            if (!Double.isFinite(norm)) {
                for (NDArray g : grads.values()) {
                    zero(g);
                }
                return norm; // no update; the caller counts the skipped step
            }
            float scale = clip > 0 && norm > clip ? (float) (clip / norm) : 1f;
            int t = step + 1;
            float correction1 = (float) (1 - Math.pow(BETA1, t));
            float correction2 = (float) (1 - Math.pow(BETA2, t));
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                String name = e.getKey();
                NDArray p = e.getValue();
                NDArray g = grads.get(name);
                NDArray gs = scale == 1f ? g : g.mul(scale);
                m.get(name).muli((float) BETA1).addi(gs.mul((float) (1 - BETA1)));
                v.get(name).muli((float) BETA2).addi(gs.square().muli((float) (1 - BETA2)));
                NDArray update = m.get(name).div(correction1)
                        .div(v.get(name).div(correction2).sqrt().addi((float) EPS));
                if (weightDecay > 0 && p.getShape().dimension() > 1) {
                    p.muli((float) (1 - lr * weightDecay));
                }
                p.subi(update.muli((float) lr));
                zero(g); // gradients accumulate in libtorch until zeroed
            }
            return norm;
        }
    }

    /** Fills in place (subtracting a gradient from itself would keep NaN and Inf). */
    private static void zero(NDArray gradient) {
        gradient.set(new NDIndex("..."), 0f);
    }
}
