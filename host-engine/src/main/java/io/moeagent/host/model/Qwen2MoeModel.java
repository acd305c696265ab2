package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.moeagent.host.io.WeightSource;

import java.util.ArrayList;
import java.util.List;

/**
 * Qwen2-MoE decoder (HF {@code modeling_qwen2_moe}): embedding, decoder layers, final RMSNorm, LM head.
 * Weights stay in HF's {@code [out, in]} layout on {@code manager}'s device in one compute dtype.
 */
public final class Qwen2MoeModel implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    /** embed_tokens [V, H] */
    private final NDArray embedTokens;
    private final DecoderLayer[] layers;
    private final RmsNorm finalNorm;
    /** lm_head [V, H] (the embedding itself when tie_word_embeddings) */
    private final Linear lmHead;
    private final RotaryEmbedding rotary;

    private Qwen2MoeModel(ModelConfig config, NDManager manager, DataType dtype, NDArray embedTokens,
                          DecoderLayer[] layers, RmsNorm finalNorm, Linear lmHead) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.embedTokens = embedTokens;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.rotary = new RotaryEmbedding(config.headDim(), config.ropeTheta());
    }

    /**
     * Loads every tensor of {@code weights} the config names onto a sub-manager of {@code parent} (closed with the
     * model), in {@code dtype}.
     */
    public static Qwen2MoeModel load(ModelConfig config, WeightSource weights, NDManager parent, DataType dtype,
                                     ExpertLayout layout) {
        NDManager manager = parent.newSubManager();
        try {
            return new Loader(config, weights, manager, dtype, layout.resolve(manager.getDevice())).load();
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Runs one step: embeds {@code input}'s tokens, writes their keys and values to {@code cache}, and returns the
     * logits of each row's last column. Every intermediate array is freed before returning.
     */
    public StepOutput forward(StepInput input, KvCache cache, boolean traceRoutes) {
        List<ExpertSelection> trace = traceRoutes ? new ArrayList<>() : null;
        try (NDScope scope = new NDScope()) {
            int batch = input.batch();
            int length = input.length();
            NDArray hidden = embedTokens.get(new NDIndex("{}", manager.create(input.tokenIds()))); // [B*S, H]
            RotaryEmbedding.Tables rope = rotary.tables(manager, batch, length, input.positions(), dtype);
            NDArray mask = manager.create(input.attentionMask(),
                    new Shape(batch, 1, 1, length, input.cacheStart() + length)); // fp32, broadcast over heads
            DecoderLayer.RoutedRows routedRows = DecoderLayer.RoutedRows.of(input, manager);
            for (DecoderLayer layer : layers) {
                hidden = layer.apply(hidden, input, rope, mask, cache, routedRows, trace);
            }
            NDArray last = hidden;
            if (length > 1) {
                long[] lastRows = new long[batch];
                for (int b = 0; b < batch; b++) {
                    lastRows[b] = (long) b * length + length - 1;
                }
                last = hidden.get(new NDIndex("{}", manager.create(lastRows))); // [B, H]
            }
            float[] logits = lmHead.apply(finalNorm.apply(last)).toType(DataType.FLOAT32, false).toFloatArray();
            return new StepOutput(logits, config.vocabSize(), trace == null ? List.of() : trace);
        }
    }

    /**
     * Runs one continuous-batching step: embeds the packed tokens, writes their keys and values to their cache slots,
     * and returns the logits of {@code input.sampleTokens()} in that order (none when the list is empty).
     */
    public StepOutput forward(PackedStepInput input, KvCache cache, boolean traceRoutes) {
        if (input.batch() > cache.batch() || input.columns() > cache.maxLength()) {
            throw new IllegalArgumentException("step spans " + input.batch() + " slots x " + input.columns()
                    + " columns; the cache holds " + cache.batch() + " x " + cache.maxLength());
        }
        List<ExpertSelection> trace = traceRoutes ? new ArrayList<>() : null;
        try (NDScope scope = new NDScope()) {
            NDArray hidden = embedTokens.get(new NDIndex("{}", manager.create(input.tokenIds()))); // [T, H]
            RotaryEmbedding.Tables rope = rotary.tables(manager, 1, input.tokens(), input.positions(), dtype);
            PackedStepInput.Tensors step = input.tensors(manager);
            for (DecoderLayer layer : layers) {
                hidden = layer.applyPacked(hidden, step, input.context(), rope, cache, trace);
            }
            int[] sample = input.sampleTokens();
            float[] logits = new float[0];
            if (sample.length > 0) {
                NDArray last = hidden.get(new NDIndex("{}",
                        manager.create(java.util.Arrays.stream(sample).asLongStream().toArray()))); // [N, H]
                logits = lmHead.apply(finalNorm.apply(last)).toType(DataType.FLOAT32, false).toFloatArray();
            }
            return new StepOutput(logits, config.vocabSize(), trace == null ? List.of() : trace);
        }
    }

    public KvCache newCache(int batch, int maxLength) {
        return new KvCache(manager, layers.length, batch, config.numKeyValueHeads(), maxLength, config.headDim(),
                dtype);
    }

    public ModelConfig config() {
        return config;
    }

    public DataType dtype() {
        return dtype;
    }

    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
    }

    /** Reads the HF tensor names of a qwen2_moe checkpoint. */
    private static final class Loader {
        private final ModelConfig c;
        private final WeightSource weights;
        private final NDManager manager;
        private final DataType dtype;
        private final ExpertLayout layout;

        Loader(ModelConfig config, WeightSource weights, NDManager manager, DataType dtype, ExpertLayout layout) {
            this.c = config;
            this.weights = weights;
            this.manager = manager;
            this.dtype = dtype;
            this.layout = layout;
        }

        Qwen2MoeModel load() {
            int h = c.hiddenSize();
            NDArray embed = tensor("model.embed_tokens.weight", c.vocabSize(), h);
            DecoderLayer[] layers = new DecoderLayer[c.numHiddenLayers()];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = layer(i);
            }
            RmsNorm norm = new RmsNorm(tensor("model.norm.weight", h), c.rmsNormEps());
            Linear head = c.tieWordEmbeddings() && !weights.contains("lm_head.weight")
                    ? new Linear(embed, null)
                    : new Linear(tensor("lm_head.weight", c.vocabSize(), h), null);
            return new Qwen2MoeModel(c, manager, dtype, embed, layers, norm, head);
        }

        private DecoderLayer layer(int i) {
            String p = "model.layers." + i + ".";
            int h = c.hiddenSize();
            int d = c.headDim();
            int qOut = c.numAttentionHeads() * d;
            int kvOut = c.numKeyValueHeads() * d;
            Attention attention = new Attention(i,
                    new Linear(tensor(p + "self_attn.q_proj.weight", qOut, h), tensor(p + "self_attn.q_proj.bias", qOut)),
                    new Linear(tensor(p + "self_attn.k_proj.weight", kvOut, h), tensor(p + "self_attn.k_proj.bias", kvOut)),
                    new Linear(tensor(p + "self_attn.v_proj.weight", kvOut, h), tensor(p + "self_attn.v_proj.bias", kvOut)),
                    new Linear(tensor(p + "self_attn.o_proj.weight", h, qOut), null),
                    c.numAttentionHeads(), c.numKeyValueHeads(), d);
            FeedForward mlp = c.isMoeLayer(i) ? moe(i, p + "mlp.") : FeedForward.dense(mlp(p + "mlp.", c.intermediateSize()));
            return new DecoderLayer(new RmsNorm(tensor(p + "input_layernorm.weight", h), c.rmsNormEps()), attention,
                    new RmsNorm(tensor(p + "post_attention_layernorm.weight", h), c.rmsNormEps()), mlp);
        }

        private SparseMoeBlock moe(int layer, String p) {
            int h = c.hiddenSize();
            Router router = new Router(layer, new Linear(tensor(p + "gate.weight", c.numExperts(), h), null),
                    c.numExpertsPerTok(), c.normTopkProb(), dtype);
            SwiGluMlp[] experts = new SwiGluMlp[c.numExperts()];
            for (int e = 0; e < experts.length; e++) {
                experts[e] = mlp(p + "experts." + e + ".", c.moeIntermediateSize());
            }
            ExpertDispatch dispatch;
            if (layout == ExpertLayout.STACKED) {
                dispatch = new StackedExpertDispatch(experts, manager);
                for (SwiGluMlp expert : experts) { // only the stacked copy is used
                    expert.gate().weight().close();
                    expert.up().weight().close();
                    expert.down().weight().close();
                }
            } else {
                dispatch = new LoopExpertDispatch(experts);
            }
            SwiGluMlp shared = null;
            Linear sharedGate = null;
            if (c.sharedExpertIntermediateSize() > 0) {
                shared = mlp(p + "shared_expert.", c.sharedExpertIntermediateSize());
                sharedGate = new Linear(tensor(p + "shared_expert_gate.weight", 1, h), null);
            }
            return new SparseMoeBlock(router, dispatch, shared, sharedGate);
        }

        private SwiGluMlp mlp(String p, int intermediate) {
            int h = c.hiddenSize();
            return new SwiGluMlp(
                    new Linear(tensor(p + "gate_proj.weight", intermediate, h), null),
                    new Linear(tensor(p + "up_proj.weight", intermediate, h), null),
                    new Linear(tensor(p + "down_proj.weight", h, intermediate), null));
        }

        private NDArray tensor(String name, long... shape) {
            return weights.load(name, manager, dtype, shape);
        }
    }
}
