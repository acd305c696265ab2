package io.moeagent.host.io;

import io.moeagent.host.model.ModelConfig;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * How each synthetic weight is drawn, so that random checkpoints behave like trained ones where it matters here:
 * activations keep a sane scale through every layer (pre-norm residual, each block adding well under the stream's
 * own magnitude) and the routers are skewed like real ones (a few experts clearly popular, few or none idle).
 *
 * <p>The skew: every token embedding carries a shared offset along one direction u, as real residual streams carry
 * common components, and every router row e is noise plus {@code b_e * u} with a per-expert bias b_e. A token's
 * logit for expert e is then a token-specific part plus {@code b_e * (h . u)}, so experts with large b_e win often.
 *
 * <p>Top-k choice does not depend on the logits' scale, only on how the fixed per-expert part compares with the
 * token-specific part; the constants below were tuned on synthetic:tiny's full forward pass over the 25 built-in
 * chat prompts (1,979 tokens, layers 0-7): the most popular expert takes 5-10 % of the routes (uniform: 1.7 %),
 * the median one about 0.8x uniform, and at most 2 of 60 experts in a layer go unused.
 *
 * <p>Value of element (r, c): {@code mean + std * N(0,1) + rowOffset[c] + rowBias[r] * direction[c]}. Every
 * random draw comes from a generator seeded by the tensor's name and the checkpoint seed, so values do not depend
 * on load order.
 */
public final class SyntheticInit {
    /** Per-element size of the shared embedding offset, relative to the token-specific part. */
    static final double EMBEDDING_OFFSET = 0.2;
    /** Standard deviation of a router logit's token-specific part. */
    static final double ROUTER_NOISE = 1.0;
    /** Standard deviation, across experts, of the popularity part of a router logit at the first layer. */
    static final double ROUTER_SKEW = 0.3;

    /** One tensor's recipe; the arrays are null when that part is absent. */
    public record Recipe(float mean, float std, float[] rowOffset, float[] rowBias, float[] direction) {
    }

    private SyntheticInit() {
    }

    public static Recipe recipe(ModelConfig c, String name, long[] shape, long seed) {
        double h = c.hiddenSize();
        if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) {
            return new Recipe(1f, 0f, null, null, null);
        }
        if (name.equals("model.embed_tokens.weight")) {
            float[] offset = direction(c, seed);
            scale(offset, (float) (EMBEDDING_OFFSET * Math.sqrt(h)));
            return new Recipe(0f, 1f, offset, null, null);
        }
        if (name.equals("lm_head.weight")) {
            return new Recipe(0f, (float) (2 / Math.sqrt(h)), null, null, null);
        }
        if (name.endsWith("mlp.gate.weight")) {
            // |h . u| is about sqrt(H) * offset / sqrt(1 + offset^2) after the RMSNorm
            double projection = Math.sqrt(h) * EMBEDDING_OFFSET / Math.sqrt(1 + EMBEDDING_OFFSET * EMBEDDING_OFFSET);
            float[] bias = gaussians(seedFor(seed, name + "#bias"), (int) shape[0], ROUTER_SKEW / projection);
            return new Recipe(0f, (float) (ROUTER_NOISE / Math.sqrt(h)), null, bias, direction(c, seed));
        }
        if (name.endsWith(".bias")) {
            return new Recipe(0f, 0.1f, null, null, null);
        }
        long in = shape[shape.length - 1];
        boolean outputProjection = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight");
        double gain = outputProjection ? 0.5 : 1.0;
        return new Recipe(0f, (float) (gain / Math.sqrt(in)), null, null, null);
    }

    /** The shared residual direction u, a unit vector. */
    static float[] direction(ModelConfig c, long seed) {
        float[] u = gaussians(seedFor(seed, "#residual-direction"), c.hiddenSize(), 1.0);
        double norm = 0;
        for (float v : u) {
            norm += v * v;
        }
        scale(u, (float) (1 / Math.sqrt(norm)));
        return u;
    }

    /** All values of a tensor drawn in Java (for checkpoints written to disk). */
    public static float[] values(ModelConfig c, String name, long[] shape, long seed) {
        Recipe r = recipe(c, name, shape, seed);
        int cols = (int) shape[shape.length - 1];
        int n = Math.toIntExact(product(shape));
        float[] out = r.std() == 0 ? new float[n] : gaussians(seedFor(seed, name), n, r.std());
        for (int i = 0; i < n; i++) {
            int row = i / cols;
            int col = i % cols;
            float v = out[i] + r.mean();
            if (r.rowOffset() != null) {
                v += r.rowOffset()[col];
            }
            if (r.rowBias() != null) {
                v += r.rowBias()[row] * r.direction()[col];
            }
            out[i] = v;
        }
        return out;
    }

    /** A stable 64-bit seed for {@code name} (FNV-1a over its UTF-8 bytes, mixed with the checkpoint seed). */
    public static long seedFor(long seed, String name) {
        long hash = 0xcbf29ce484222325L ^ seed;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xFF;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /**
     * {@code n} normal draws of standard deviation {@code std}: Box-Muller over SplittableRandom with StrictMath,
     * so the values are the same bits on every JVM version (Random's own nextGaussian changed in Java 17).
     */
    static float[] gaussians(long seed, int n, double std) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - random.nextDouble(); // (0, 1]: log is finite
            double u2 = random.nextDouble();
            double radius = StrictMath.sqrt(-2 * StrictMath.log(u1)) * std;
            double angle = 2 * StrictMath.PI * u2;
            out[i] = (float) (radius * StrictMath.cos(angle));
            if (i + 1 < n) {
                out[i + 1] = (float) (radius * StrictMath.sin(angle));
            }
        }
        return out;
    }

    static long product(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static void scale(float[] v, float factor) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= factor;
        }
    }
}
