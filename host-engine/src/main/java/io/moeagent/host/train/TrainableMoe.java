package io.moeagent.host.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.moeagent.host.io.Qwen2MoeTensors;
import io.moeagent.host.io.WeightSource;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.model.RmsNorm;
import io.moeagent.host.model.RotaryEmbedding;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A differentiable Qwen2-MoE (HF {@code modeling_qwen2_moe}, the host's architecture) over whole sequences, for
 * training with libtorch's autograd: causal attention without a cache, the real top-k router, SwiGLU experts run
 * one small batch per expert that was hit, the shared expert behind its sigmoid gate, tied LM head, and the
 * Switch/HF auxiliary load-balancing loss. The host's own {@link RmsNorm} and {@link RotaryEmbedding} are reused,
 * so those parts are the host's code. Routed experts are stored stacked, {@code [E, I, H]} per projection, so the
 * optimizer touches 3 tensors per layer instead of 180; {@link #hfTensors} splits them into HF's per-expert names.
 */
final class TrainableMoe implements AutoCloseable {
    static final String[] EXPERT_PROJECTIONS = {"gate_proj", "up_proj", "down_proj"};

    /** The loss of one batch: total = lm + coef * aux; lm is the weighted mean next-token NLL. */
    record Loss(NDArray total, NDArray lm, NDArray aux) {
    }

    private final ModelConfig c;
    private final NDManager manager;
    /** every trainable tensor, by name, in a fixed order (HF names; stacked experts as {@link #stacked}) */
    private final Map<String, NDArray> params;
    private final RotaryEmbedding rotary;

    private TrainableMoe(ModelConfig config, NDManager manager, Map<String, NDArray> params) {
        this.c = config;
        this.manager = manager;
        this.params = params;
        this.rotary = new RotaryEmbedding(config.headDim(), config.ropeTheta());
    }

    static String stacked(int layer, String projection) {
        return Qwen2MoeTensors.layer(layer, "mlp.experts." + projection + ".stacked");
    }

    /** Parameter names and shapes in their fixed order. */
    static Map<String, long[]> shapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Qwen2MoeTensors.Spec s : Qwen2MoeTensors.all(c)) {
            if (!s.name().contains(".mlp.experts.")) {
                shapes.put(s.name(), s.shape());
            }
            if (s.name().endsWith("mlp.gate.weight")) {
                int layer = Integer.parseInt(s.name().split("\\.")[2]);
                long e = c.numExperts();
                long i = c.moeIntermediateSize();
                long h = c.hiddenSize();
                shapes.put(stacked(layer, "gate_proj"), new long[] {e, i, h});
                shapes.put(stacked(layer, "up_proj"), new long[] {e, i, h});
                shapes.put(stacked(layer, "down_proj"), new long[] {e, h, i});
            }
        }
        return shapes;
    }

    /**
     * Seeded initialisation (each tensor from its own stream, so the result does not depend on creation order):
     * norms 1, biases 0, matrices N(0, 0.02), output projections (o_proj, down_proj) scaled by 1/sqrt(2 * layers).
     */
    static TrainableMoe initialise(ModelConfig c, NDManager manager, long seed) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        double outScale = 1 / Math.sqrt(2.0 * c.numHiddenLayers());
        for (Map.Entry<String, long[]> e : shapes(c).entrySet()) {
            String name = e.getKey();
            Shape shape = new Shape(e.getValue());
            float[] values = new float[Math.toIntExact(shape.size())];
            if (name.endsWith("norm.weight")) {
                java.util.Arrays.fill(values, 1f);
            } else if (!name.endsWith(".bias")) {
                Random random = new Random(seed * 31 + name.hashCode());
                double std = 0.02 * (name.contains("o_proj") || name.contains("down_proj") ? outScale : 1);
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (random.nextGaussian() * std);
                }
            }
            // copied into libtorch's own (64-byte aligned) memory: an array made from Java data wraps a direct
            // buffer whose alignment varies from run to run, and the CPU matmul kernels then round differently
            try (NDArray wrapped = manager.create(values, shape)) {
                params.put(name, wrapped.duplicate());
            }
        }
        return withGradients(c, manager, params);
    }

    /** Takes ownership of {@code params} (exactly {@link #shapes}'s names and shapes, F32). */
    static TrainableMoe of(ModelConfig c, NDManager manager, Map<String, NDArray> params) {
        Map<String, long[]> shapes = shapes(c);
        if (!shapes.keySet().equals(params.keySet())) {
            throw new IllegalArgumentException("parameters do not match the model: expected " + shapes.size()
                    + " tensors named as the model's, got " + params.size());
        }
        Map<String, NDArray> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            NDArray p = params.get(e.getKey());
            if (!p.getShape().equals(new Shape(e.getValue()))) {
                throw new IllegalArgumentException("parameter " + e.getKey() + " has shape " + p.getShape());
            }
            ordered.put(e.getKey(), p);
        }
        return withGradients(c, manager, ordered);
    }

    /** Reads a Hugging Face checkpoint's weights (any stored dtype) back into trainable form. */
    static TrainableMoe fromHf(ModelConfig c, WeightSource weights, NDManager manager) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(c).entrySet()) {
            String name = e.getKey();
            if (name.endsWith(".stacked")) {
                String[] parts = name.split("\\.");
                int layer = Integer.parseInt(parts[2]);
                String projection = parts[5];
                NDList perExpert = new NDList();
                for (int x = 0; x < c.numExperts(); x++) {
                    perExpert.add(weights.load(Qwen2MoeTensors.expert(layer, x, projection), manager,
                            DataType.FLOAT32));
                }
                params.put(name, NDArrays.stack(perExpert, 0));
                perExpert.close();
            } else {
                params.put(name, weights.load(name, manager, DataType.FLOAT32, e.getValue()).duplicate());
            }
        }
        return of(c, manager, params);
    }

    private static TrainableMoe withGradients(ModelConfig c, NDManager manager, Map<String, NDArray> params) {
        for (NDArray p : params.values()) {
            p.setRequiresGradient(true);
        }
        return new TrainableMoe(c, manager, params);
    }

    Map<String, NDArray> params() {
        return params;
    }

    ModelConfig config() {
        return c;
    }

    private NDArray p(String name) {
        return params.get(name);
    }

    /** Tensors under HF's names, in HF's order, as float arrays (experts split out of their stacks). */
    Map<String, float[]> hfTensors() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Qwen2MoeTensors.Spec s : Qwen2MoeTensors.all(c)) {
            String name = s.name();
            if (name.contains(".mlp.experts.")) {
                String[] parts = name.split("\\.");
                int layer = Integer.parseInt(parts[2]);
                int expert = Integer.parseInt(parts[5]);
                String projection = parts[6];
                try (NDArray slice = p(stacked(layer, projection)).get(expert)) {
                    out.put(name, slice.toFloatArray());
                }
            } else {
                out.put(name, p(name).toFloatArray());
            }
        }
        return out;
    }

    /**
     * The loss over a batch of {@code rows} sequences of {@code seqLen} tokens: {@code inputs}/{@code targets}
     * row-major, {@code weights} per target (0 = not counted). Call inside a scope; the graph is built when a
     * gradient collector is open.
     */
    Loss loss(long[] inputs, long[] targets, float[] weights, int rows, int seqLen, double auxCoef) {
        NDList auxTerms = new NDList();
        NDArray logits = logits(inputs, rows, seqLen, auxTerms); // [N, V]
        NDArray logProbabilities = logits.logSoftmax(-1);
        NDArray nll = logProbabilities.gather(manager.create(targets, new Shape(targets.length, 1)), 1)
                .reshape(targets.length).neg();
        NDArray w = manager.create(weights);
        float weightSum = 0;
        for (float x : weights) {
            weightSum += x;
        }
        NDArray lm = nll.mul(w).sum().div(Math.max(weightSum, 1f));
        NDArray aux = auxTerms.size() == 1 ? auxTerms.get(0) : NDArrays.stack(auxTerms, 0).mean();
        return new Loss(lm.add(aux.mul((float) auxCoef)), lm, aux);
    }

    /** Logits [rows * seqLen, V] for every position; each MoE layer's aux loss is appended to {@code aux}. */
    NDArray logits(long[] inputs, int rows, int seqLen, NDList aux) {
        int n = rows * seqLen;
        NDArray embed = p("model.embed_tokens.weight");
        NDArray hidden = embed.get(new NDIndex("{}", manager.create(inputs))); // [N, H]
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i % seqLen;
        }
        RotaryEmbedding.Tables rope = rotary.tables(manager, rows, seqLen, positions, DataType.FLOAT32);
        float[] mask = new float[seqLen * seqLen];
        for (int q = 0; q < seqLen; q++) {
            for (int k = q + 1; k < seqLen; k++) {
                mask[q * seqLen + k] = -1e9f;
            }
        }
        NDArray causal = manager.create(mask, new Shape(seqLen, seqLen));
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            String pre = "model.layers." + layer + ".";
            NDArray normed = norm(pre + "input_layernorm.weight", hidden);
            hidden = hidden.add(attention(pre, normed, rows, seqLen, rope, causal));
            NDArray normed2 = norm(pre + "post_attention_layernorm.weight", hidden);
            hidden = hidden.add(moe(layer, pre + "mlp.", normed2, aux));
        }
        NDArray last = norm("model.norm.weight", hidden);
        return linear(last, embed, null); // tied LM head
    }

    private NDArray norm(String weight, NDArray x) {
        return new RmsNorm(p(weight), c.rmsNormEps()).apply(x);
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
    }

    /** Causal GQA self-attention over whole rows: x [N, H] -> [N, H]. */
    private NDArray attention(String pre, NDArray x, int rows, int seqLen, RotaryEmbedding.Tables rope,
                              NDArray causal) {
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKeyValueHeads();
        int d = c.headDim();
        int groups = heads / kvHeads;
        String a = pre + "self_attn.";
        NDArray q = rope.apply(linear(x, p(a + "q_proj.weight"), p(a + "q_proj.bias"))
                .reshape(rows, seqLen, heads, d).transpose(0, 2, 1, 3)) // [B, heads, S, D]
                .reshape(rows, kvHeads, (long) groups * seqLen, d);
        NDArray k = rope.apply(linear(x, p(a + "k_proj.weight"), p(a + "k_proj.bias"))
                .reshape(rows, seqLen, kvHeads, d).transpose(0, 2, 1, 3)); // [B, kvHeads, S, D]
        NDArray v = linear(x, p(a + "v_proj.weight"), p(a + "v_proj.bias"))
                .reshape(rows, seqLen, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul((float) (1 / Math.sqrt(d)))
                .reshape(rows, kvHeads, groups, seqLen, seqLen).add(causal).softmax(-1)
                .reshape(rows, kvHeads, (long) groups * seqLen, seqLen);
        NDArray context = scores.matMul(v).reshape(rows, heads, seqLen, d).transpose(0, 2, 1, 3)
                .reshape((long) rows * seqLen, (long) heads * d);
        return linear(context, p(a + "o_proj.weight"), null);
    }

    /** The sparse MoE block: x [N, H] -> [N, H]; appends the layer's load-balancing loss to {@code aux}. */
    private NDArray moe(int layer, String pre, NDArray x, NDList aux) {
        int n = Math.toIntExact(x.getShape().get(0));
        int e = c.numExperts();
        int k = c.numExpertsPerTok();
        NDArray probabilities = linear(x, p(pre + "gate.weight"), null).softmax(-1); // [N, E]
        NDList top = probabilities.topK(k, -1, true, true);
        NDArray topWeights = top.get(0); // [N, k]
        long[] ids = top.get(1).toLongArray();
        int[] count = new int[e];
        for (long id : ids) {
            count[(int) id]++;
        }
        // HF load_balancing_loss_func: E * sum_e (fraction of routed slots on e) * (mean router probability of e)
        float[] fraction = new float[e];
        for (int x2 = 0; x2 < e; x2++) {
            fraction[x2] = count[x2] / (float) n;
        }
        aux.add(probabilities.mean(new int[] {0}).mul(manager.create(fraction)).sum().mul((float) e));

        int pairs = n * k;
        int[] start = new int[e + 1];
        for (int x2 = 0; x2 < e; x2++) {
            start[x2 + 1] = start[x2] + count[x2];
        }
        long[] indices = new long[2 * pairs];
        int[] fill = start.clone();
        for (int pair = 0; pair < pairs; pair++) {
            int row = fill[(int) ids[pair]]++;
            indices[row] = pair / k;
            indices[pairs + pair] = row;
        }
        NDList both = manager.create(indices).split(2);
        NDArray sortedRows = x.get(new NDIndex("{}", both.get(0))); // [N*k, H] grouped by expert
        long[] boundaries = new long[e - 1];
        for (int x2 = 1; x2 < e; x2++) {
            boundaries[x2 - 1] = start[x2];
        }
        NDList perExpert = sortedRows.split(boundaries, 0);
        NDList gate = p(stacked(layer, "gate_proj")).split(e, 0);
        NDList up = p(stacked(layer, "up_proj")).split(e, 0);
        NDList down = p(stacked(layer, "down_proj")).split(e, 0);
        NDList outputs = new NDList();
        for (int x2 = 0; x2 < e; x2++) {
            if (count[x2] > 0) {
                NDArray rows = perExpert.get(x2);
                NDArray g = linear(rows, gate.get(x2).squeeze(0), null);
                NDArray u = linear(rows, up.get(x2).squeeze(0), null);
                outputs.add(linear(g.mul(g.getNDArrayInternal().sigmoid()).mul(u), down.get(x2).squeeze(0), null));
            }
        }
        NDArray expertRows = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 0);
        NDArray routed = expertRows.get(new NDIndex("{}", both.get(1))).reshape(n, k, c.hiddenSize())
                .mul(topWeights.expandDims(-1)).sum(new int[] {1});
        if (c.sharedExpertIntermediateSize() == 0) {
            return routed;
        }
        NDArray sg = linear(x, p(pre + "shared_expert.gate_proj.weight"), null);
        NDArray su = linear(x, p(pre + "shared_expert.up_proj.weight"), null);
        NDArray shared = linear(sg.mul(sg.getNDArrayInternal().sigmoid()).mul(su),
                p(pre + "shared_expert.down_proj.weight"), null);
        NDArray sharedGate = linear(x, p(pre + "shared_expert_gate.weight"), null).getNDArrayInternal().sigmoid();
        return routed.add(shared.mul(sharedGate));
    }

    List<String> names() {
        return List.copyOf(params.keySet());
    }

    @Override
    public void close() {
        params.values().forEach(NDArray::close);
    }
}
