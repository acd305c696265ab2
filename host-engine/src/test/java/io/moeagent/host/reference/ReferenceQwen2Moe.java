package io.moeagent.host.reference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.io.WeightSource;
import io.moeagent.host.model.ModelConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An independent plain-Java, double-precision Qwen2-MoE (HF {@code modeling_qwen2_moe}), one token at a time, for
 * checking the engine and recorded routes. It shares nothing with the engine but {@link ModelConfig} and the tensor
 * names. Slow by design: use it on tiny configs.
 */
public final class ReferenceQwen2Moe {
    private final ModelConfig c;
    /** the checkpoint's values as stored (fp32 holds bf16/fp16 exactly); all arithmetic is in double */
    private final Map<String, float[]> w;

    /** @param weights float values by HF tensor name, in HF layout ([out, in], row-major); not copied */
    public ReferenceQwen2Moe(ModelConfig config, Map<String, float[]> weights) {
        this.c = config;
        this.w = new HashMap<>(weights);
    }

    /** Reads every tensor the config names from {@code source} (as fp32). */
    public static ReferenceQwen2Moe fromWeightSource(ModelConfig config, WeightSource source) {
        Map<String, float[]> values = new HashMap<>();
        try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            for (Map.Entry<String, long[]> e : Qwen2MoeTensors.shapes(config).entrySet()) {
                if (!source.contains(e.getKey()) && e.getKey().equals("lm_head.weight")) {
                    continue;
                }
                NDArray array = source.load(e.getKey(), manager, DataType.FLOAT32, e.getValue());
                values.put(e.getKey(), array.toFloatArray());
                array.close();
            }
        }
        return new ReferenceQwen2Moe(config, values);
    }

    public ModelConfig config() {
        return c;
    }

    /** A new sequence with an empty KV cache; positions start at 0. */
    public Session newSession() {
        return new Session();
    }

    /** The router decision of one MoE layer for one token. */
    public static final class Route {
        public final int layer;
        /** [k] expert ids, descending weight, ties broken towards the lower id */
        public final int[] ids;
        /** [k] routing weights (renormalised when norm_topk_prob) */
        public final double[] weights;
        /** [E] softmax over all experts, to judge near-ties */
        public final double[] probabilities;

        Route(int layer, int[] ids, double[] weights, double[] probabilities) {
            this.layer = layer;
            this.ids = ids;
            this.weights = weights;
            this.probabilities = probabilities;
        }

        /**
         * Smallest gap between the k-th and (k+1)-th probability: below ~1e-6 an fp32 engine may legitimately pick
         * the other expert.
         */
        public double marginAtK() {
            double[] sorted = probabilities.clone();
            java.util.Arrays.sort(sorted);
            int k = ids.length;
            if (k >= sorted.length) {
                return Double.POSITIVE_INFINITY;
            }
            return sorted[sorted.length - k] - sorted[sorted.length - k - 1];
        }
    }

    /** Everything the reference computed for one token. */
    public static final class TokenResult {
        public final int position;
        /** [V] */
        public final double[] logits;
        /** [H] final hidden state after the last norm */
        public final double[] finalHidden;
        /** one per MoE layer, in layer order */
        public final List<Route> routes;

        TokenResult(int position, double[] logits, double[] finalHidden, List<Route> routes) {
            this.position = position;
            this.logits = logits;
            this.finalHidden = finalHidden;
            this.routes = Collections.unmodifiableList(routes);
        }
    }

    /** One sequence and its KV cache. */
    public final class Session {
        private final List<List<double[]>> keys = new ArrayList<>();
        private final List<List<double[]>> values = new ArrayList<>();
        private int position;

        Session() {
            for (int i = 0; i < c.numHiddenLayers(); i++) {
                keys.add(new ArrayList<>());
                values.add(new ArrayList<>());
            }
        }

        /** Feeds tokens at the next positions and returns one result per token. */
        public List<TokenResult> feed(long... tokens) {
            List<TokenResult> results = new ArrayList<>();
            for (long token : tokens) {
                results.add(step((int) token));
            }
            return results;
        }

        private TokenResult step(int token) {
            int h = c.hiddenSize();
            double[] x = new double[h];
            float[] embedding = w.get("model.embed_tokens.weight");
            for (int i = 0; i < h; i++) {
                x[i] = embedding[token * h + i];
            }
            List<Route> routes = new ArrayList<>();
            for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
                String p = "model.layers." + layer + ".";
                double[] attn = attention(layer, p, rmsNorm(x, w.get(p + "input_layernorm.weight")));
                add(x, attn);
                double[] normed = rmsNorm(x, w.get(p + "post_attention_layernorm.weight"));
                double[] mlp = c.isMoeLayer(layer) ? moe(layer, p + "mlp.", normed, routes)
                        : swiglu(p + "mlp.", normed, c.intermediateSize());
                add(x, mlp);
            }
            double[] finalHidden = rmsNorm(x, w.get("model.norm.weight"));
            float[] head = w.containsKey("lm_head.weight") ? w.get("lm_head.weight")
                    : w.get("model.embed_tokens.weight");
            double[] logits = linear(head, null, finalHidden, c.vocabSize());
            return new TokenResult(position++, logits, finalHidden, routes);
        }

        private double[] attention(int layer, String p, double[] x) {
            int heads = c.numAttentionHeads();
            int kvHeads = c.numKeyValueHeads();
            int d = c.headDim();
            double[] q = linear(w.get(p + "self_attn.q_proj.weight"), w.get(p + "self_attn.q_proj.bias"), x, heads * d);
            double[] k = linear(w.get(p + "self_attn.k_proj.weight"), w.get(p + "self_attn.k_proj.bias"), x, kvHeads * d);
            double[] v = linear(w.get(p + "self_attn.v_proj.weight"), w.get(p + "self_attn.v_proj.bias"), x, kvHeads * d);
            rope(q, heads, d, position);
            rope(k, kvHeads, d, position);
            keys.get(layer).add(k);
            values.get(layer).add(v);
            int seen = keys.get(layer).size();
            double[] context = new double[heads * d];
            double scale = 1.0 / Math.sqrt(d);
            for (int head = 0; head < heads; head++) {
                int kvHead = head / (heads / kvHeads);
                double[] scores = new double[seen];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < seen; t++) {
                    double[] kt = keys.get(layer).get(t);
                    double s = 0;
                    for (int i = 0; i < d; i++) {
                        s += q[head * d + i] * kt[kvHead * d + i];
                    }
                    scores[t] = s * scale;
                    max = Math.max(max, scores[t]);
                }
                double sum = 0;
                for (int t = 0; t < seen; t++) {
                    scores[t] = Math.exp(scores[t] - max);
                    sum += scores[t];
                }
                for (int t = 0; t < seen; t++) {
                    double[] vt = values.get(layer).get(t);
                    for (int i = 0; i < d; i++) {
                        context[head * d + i] += scores[t] / sum * vt[kvHead * d + i];
                    }
                }
            }
            return linear(w.get(p + "self_attn.o_proj.weight"), null, context, c.hiddenSize());
        }

        private double[] moe(int layer, String p, double[] x, List<Route> routes) {
            int experts = c.numExperts();
            int k = c.numExpertsPerTok();
            double[] logits = linear(w.get(p + "gate.weight"), null, x, experts);
            double[] probabilities = softmax(logits);
            Integer[] order = new Integer[experts];
            for (int e = 0; e < experts; e++) {
                order[e] = e;
            }
            java.util.Arrays.sort(order, (a, b) -> probabilities[a] != probabilities[b]
                    ? Double.compare(probabilities[b], probabilities[a]) : Integer.compare(a, b));
            int[] ids = new int[k];
            double[] weights = new double[k];
            double sum = 0;
            for (int j = 0; j < k; j++) {
                ids[j] = order[j];
                weights[j] = probabilities[order[j]];
                sum += weights[j];
            }
            if (c.normTopkProb()) {
                for (int j = 0; j < k; j++) {
                    weights[j] /= sum;
                }
            }
            routes.add(new Route(layer, ids, weights, probabilities));
            double[] out = new double[c.hiddenSize()];
            for (int j = 0; j < k; j++) {
                double[] y = swiglu(p + "experts." + ids[j] + ".", x, c.moeIntermediateSize());
                for (int i = 0; i < out.length; i++) {
                    out[i] += weights[j] * y[i];
                }
            }
            if (c.sharedExpertIntermediateSize() > 0) {
                double[] shared = swiglu(p + "shared_expert.", x, c.sharedExpertIntermediateSize());
                double gate = sigmoid(linear(w.get(p + "shared_expert_gate.weight"), null, x, 1)[0]);
                for (int i = 0; i < out.length; i++) {
                    out[i] += gate * shared[i];
                }
            }
            return out;
        }

        private double[] swiglu(String p, double[] x, int intermediate) {
            double[] g = linear(w.get(p + "gate_proj.weight"), null, x, intermediate);
            double[] u = linear(w.get(p + "up_proj.weight"), null, x, intermediate);
            for (int i = 0; i < intermediate; i++) {
                g[i] = g[i] * sigmoid(g[i]) * u[i];
            }
            return linear(w.get(p + "down_proj.weight"), null, g, c.hiddenSize());
        }

        private double[] rmsNorm(double[] x, float[] weight) {
            double meanSquare = 0;
            for (double v : x) {
                meanSquare += v * v;
            }
            meanSquare /= x.length;
            double inverse = 1.0 / Math.sqrt(meanSquare + c.rmsNormEps());
            double[] out = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                out[i] = weight[i] * x[i] * inverse;
            }
            return out;
        }

        /** rotate_half convention: element i pairs with i + D/2 within each head. */
        private void rope(double[] x, int heads, int d, int pos) {
            int half = d / 2;
            for (int head = 0; head < heads; head++) {
                for (int i = 0; i < half; i++) {
                    double angle = pos / Math.pow(c.ropeTheta(), 2.0 * i / d);
                    double cos = Math.cos(angle);
                    double sin = Math.sin(angle);
                    int a = head * d + i;
                    int b = a + half;
                    double x1 = x[a];
                    double x2 = x[b];
                    x[a] = x1 * cos - x2 * sin;
                    x[b] = x2 * cos + x1 * sin;
                }
            }
        }
    }

    private static double[] linear(float[] weight, float[] bias, double[] x, int out) {
        int in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = bias == null ? 0 : bias[o];
            int base = o * in;
            for (int i = 0; i < in; i++) {
                s += (double) weight[base + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    private static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static double sigmoid(double v) {
        return 1.0 / (1.0 + Math.exp(-v));
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
