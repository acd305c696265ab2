package io.moeagent.host.train;

import java.util.Random;

/**
 * Tokenized conversations packed end to end into one stream and cut into windows of {@code seqLen + 1} tokens
 * (inputs and next-token targets overlap by one). Training windows come from a stream whose conversation order is
 * reshuffled every epoch from {@code (seed, epoch)}, so window {@code g} of the whole run depends only on {@code g}:
 * a resumed run reads exactly the data an uninterrupted one would. Targets inside a conversation's fixed system
 * turn (and the first token of every conversation) carry weight 0: the loss covers the question and the solution.
 */
final class TokenWindows {
    /** Inputs and targets [windows * seqLen] row-major, and each target's loss weight. */
    record Batch(long[] inputs, long[] targets, float[] weights, int rows) {
    }

    private final int[][] conversations;
    private final int prefixTokens;
    private final int seqLen;
    private final long seed;
    private final boolean shuffle;
    private final long totalTokens;
    private int cachedEpoch = -1;
    private int[] stream;
    private boolean[] counted;

    TokenWindows(int[][] conversations, int prefixTokens, int seqLen, long seed, boolean shuffle) {
        this.conversations = conversations;
        this.prefixTokens = prefixTokens;
        this.seqLen = seqLen;
        this.seed = seed;
        this.shuffle = shuffle;
        long total = 0;
        for (int[] c : conversations) {
            total += c.length;
        }
        this.totalTokens = total;
        if (total < seqLen + 1) {
            throw new IllegalArgumentException("the data holds " + total + " tokens, fewer than one window of "
                    + (seqLen + 1) + "; use more problems or a smaller --seq-len");
        }
    }

    long totalTokens() {
        return totalTokens;
    }

    /** Whole windows in one epoch (training drops the tail). */
    int windowsPerEpoch() {
        return (int) ((totalTokens - 1) / seqLen);
    }

    /** Windows covering every target once, the last one padded with weight-0 targets (evaluation). */
    int windowsCoveringAll() {
        return (int) ((totalTokens - 1 + seqLen - 1) / seqLen);
    }

    /** {@code count} consecutive windows starting at global window {@code first} (epochs follow one another). */
    Batch batch(long first, int count) {
        long[] inputs = new long[count * seqLen];
        long[] targets = new long[count * seqLen];
        float[] weights = new float[count * seqLen];
        for (int r = 0; r < count; r++) {
            long g = first + r;
            int perEpoch = shuffle ? windowsPerEpoch() : windowsCoveringAll();
            int epoch = (int) (g / perEpoch);
            int start = (int) (g % perEpoch) * seqLen;
            load(epoch);
            for (int i = 0; i < seqLen; i++) {
                int at = start + i;
                int o = r * seqLen + i;
                if (at + 1 < stream.length) {
                    inputs[o] = stream[at];
                    targets[o] = stream[at + 1];
                    weights[o] = counted[at + 1] ? 1f : 0f;
                } else if (at < stream.length) {
                    inputs[o] = stream[at];
                }
            }
        }
        return new Batch(inputs, targets, weights, count);
    }

    /** The conversations of {@code epoch} in their order, concatenated (cached: epochs advance slowly). */
    private void load(int epoch) {
        if (epoch == cachedEpoch) {
            return;
        }
        int n = conversations.length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            Random random = new Random(seed * 1_000_003L + epoch); // Fisher-Yates, one stream per epoch
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        stream = new int[(int) totalTokens];
        counted = new boolean[(int) totalTokens];
        int at = 0;
        for (int c : order) {
            int[] tokens = conversations[c];
            for (int i = 0; i < tokens.length; i++) {
                stream[at] = tokens[i];
                counted[at] = i >= prefixTokens;
                at++;
            }
        }
        cachedEpoch = epoch;
    }
}
