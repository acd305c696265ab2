package io.moeagent.host.train;

import io.moeagent.host.io.ConfigLoader;
import io.moeagent.host.model.ModelConfig;

/**
 * Everything that determines a training run's result: the model's shape and the optimisation settings. Two runs
 * with equal configs (and the same data) produce the same weights; a checkpoint records its config so that a resume
 * with different settings is refused.
 */
public record TrainConfig(
        int hiddenSize,
        int layers,
        int heads,
        int kvHeads,
        int moeIntermediate,
        int sharedIntermediate,
        int experts,
        int topK,
        int vocabSize,
        int seqLen,
        int batch,
        int steps,
        double learningRate,
        int warmupSteps,
        double weightDecay,
        double auxLossCoef,
        double gradClip,
        long seed,
        int trainLimit) {

    public static final int MAX_POSITIONS = 4096;

    /** The Hugging Face config of the model this run trains, for a tokenizer with these special-token ids. */
    public ModelConfig modelConfig(int actualVocab, int endOfText, int imEnd) {
        return new ModelConfig(ConfigLoader.MODEL_TYPE, hiddenSize, layers, heads, kvHeads, sharedIntermediate,
                moeIntermediate, sharedIntermediate, experts, topK, false, 1, new int[0], 1_000_000.0, 1e-6,
                actualVocab, true, endOfText, new int[] {imEnd, endOfText}, MAX_POSITIONS);
    }

    /** Linear warm-up, then cosine decay to a tenth of the peak. */
    public double learningRateAt(int step) {
        if (step < warmupSteps) {
            return learningRate * (step + 1) / warmupSteps;
        }
        double progress = steps <= warmupSteps ? 1 : (double) (step - warmupSteps) / (steps - warmupSteps);
        return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    }

    void validate() {
        check(hiddenSize > 0 && heads > 0 && hiddenSize % heads == 0, "--hidden must be a multiple of --heads");
        check(kvHeads > 0 && heads % kvHeads == 0, "--heads must be a multiple of --kv-heads");
        check((hiddenSize / heads) % 2 == 0, "the head dimension (--hidden / --heads) must be even");
        check(layers > 0 && moeIntermediate > 0 && sharedIntermediate >= 0, "--layers and --moe-intermediate must be positive");
        check(experts > 0 && topK > 0 && topK <= experts, "--top-k must be between 1 and --experts");
        check(vocabSize > 259 + 3, "--vocab-size must exceed 262 (256 bytes, 3 special tokens, some merges)");
        check(seqLen > 1 && seqLen < MAX_POSITIONS, "--seq-len must be between 2 and " + (MAX_POSITIONS - 1));
        check(batch > 0 && steps > 0, "--batch and --steps must be positive");
        check(learningRate > 0 && warmupSteps >= 0 && weightDecay >= 0 && auxLossCoef >= 0 && gradClip >= 0,
                "--lr must be positive; --warmup, --weight-decay, --aux-loss-coef, --grad-clip non-negative");
        check(trainLimit >= 0, "--train-limit must be >= 0 (0 = all problems)");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
