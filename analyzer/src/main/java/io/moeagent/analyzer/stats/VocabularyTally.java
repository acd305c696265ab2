package io.moeagent.analyzer.stats;

import java.util.ArrayList;
import java.util.List;

/**
 * Vocabulary specialization (OLMoE, Muennighoff et al. 2024, section 5): per layer, how many times each input
 * token id was routed, and to which experts. An expert's specialization for a token is the share of the token's
 * routings (rows) that selected that expert: 1 when every occurrence went there, k/E when routing ignores the
 * token. Only rows that carry a token id count. Each (layer, token) seen gets E counters; memory is bounded
 * by {@code maxCounters}: once they are taken, tokens not seen before in a layer are no longer tracked there (their
 * rows are counted in {@link #untrackedRows()}), while tracked tokens keep being counted in full.
 */
public final class VocabularyTally implements RowTally {
    static final int DEFAULT_MAX_COUNTERS = 1 << 23;

    private final int experts;
    private final int maxSlots;
    /** (layer, token) -> slot + 1. */
    private final LongCounts slotOf = new LongCounts(1 << 10);
    private int slots;
    private int[] slotLayer = new int[256];
    private int[] slotToken = new int[256];
    private long[] slotRows = new long[256];
    /** {@code perExpert[slot * E + e]}: rows of the slot's token in its layer that selected e. */
    private int[] perExpert;
    /** A direct-mapped cache in front of {@link #slotOf}: frequent tokens skip the big table. */
    private static final int CACHE = 1 << 13;
    private final long[] cacheKey = new long[CACHE];
    private final int[] cacheSlot = new int[CACHE];
    private long rowsWithIds;
    private long rowsWithoutIds;
    private long untrackedRows;
    private long kSum;

    public VocabularyTally(int experts) {
        this(experts, DEFAULT_MAX_COUNTERS);
    }

    VocabularyTally(int experts, int maxCounters) {
        this.experts = experts;
        this.maxSlots = Math.max(1, maxCounters / experts);
        this.perExpert = new int[256 * experts];
        java.util.Arrays.fill(cacheKey, -1L);
    }

    static long key(int layer, int token) {
        return ((long) layer << 32) | (token & 0xFFFFFFFFL);
    }

    @Override
    public void add(AnalysisRow r) {
        if (!r.hasTokenId) {
            rowsWithoutIds++;
            return;
        }
        rowsWithIds++;
        long key = key(r.layer, r.tokenId);
        int c = ((r.tokenId * 0x9E3779B1) ^ (r.layer * 0x85EBCA6B)) >>> 19;
        int slot;
        if (cacheKey[c] == key) {
            slot = cacheSlot[c];
        } else {
            slot = (int) slotOf.get(key) - 1;
            if (slot < 0) {
                if (slots == maxSlots) {
                    untrackedRows++;
                    return;
                }
                slot = newSlot(key, r.layer, r.tokenId);
            }
            cacheKey[c] = key;
            cacheSlot[c] = slot;
        }
        kSum += r.k;
        slotRows[slot]++;
        int base = slot * experts;
        for (int j = r.offset, end = r.offset + r.k; j < end; j++) {
            perExpert[base + r.ids[j]]++;
        }
    }

    private int newSlot(long key, int layer, int token) {
        int slot = slots++;
        if (slot == slotLayer.length) {
            int n = (int) Math.min(maxSlots, slotLayer.length * 2L);
            slotLayer = java.util.Arrays.copyOf(slotLayer, n);
            slotToken = java.util.Arrays.copyOf(slotToken, n);
            slotRows = java.util.Arrays.copyOf(slotRows, n);
            perExpert = java.util.Arrays.copyOf(perExpert, n * experts);
        }
        slotLayer[slot] = layer;
        slotToken[slot] = token;
        slotOf.add(key, slot + 1);
        return slot;
    }

    public long rowsWithIds() {
        return rowsWithIds;
    }

    public long rowsWithoutIds() {
        return rowsWithoutIds;
    }

    /** Rows with a token id that was not tracked because the counters were all taken. */
    public long untrackedRows() {
        return untrackedRows;
    }

    /** A token routed to an expert: {@code count} of the token's {@code tokenRows} rows, {@code share} = the ratio. */
    public record TokenShare(int token, long count, long tokenRows, double share) {
    }

    /** One expert's most specialised tokens (highest share, then most rows, then lowest id). */
    public record ExpertTokens(int expert, List<TokenShare> tokens) {
    }

    /**
     * One layer: {@code rows} with token ids, {@code distinctTokens}, {@code frequentTokens} (at least
     * {@code minCount} rows), over those the row-weighted mean of each token's largest expert share
     * ({@code meanMaxShare}; uniform routing gives about k/E = {@code uniformShare}) and how many tokens send at
     * least 90% of their rows to one expert; the top tokens per expert.
     */
    public record Layer(int layer, long rows, long distinctTokens, long frequentTokens, double meanMaxShare,
                        long tokensOver90, double uniformShare, List<ExpertTokens> experts) {
    }

    /** Better first: higher share (compared exactly, as count x rows), more rows, lower id. */
    static int compare(long countA, long rowsA, int tokenA, long countB, long rowsB, int tokenB) {
        int c = Long.compare(countB * rowsA, countA * rowsB);
        if (c != 0) {
            return c;
        }
        c = Long.compare(countB, countA);
        return c != 0 ? c : Integer.compare(tokenA, tokenB);
    }

    /** Per-layer figures, ascending by layer; empty without token ids. */
    public List<Layer> layers(int minCount, int topTokens) {
        if (slots == 0) {
            return List.of();
        }
        int k = (int) Math.round((double) kSum / (rowsWithIds - untrackedRows));
        int nl = 0;
        for (int s = 0; s < slots; s++) {
            nl = Math.max(nl, slotLayer[s] + 1);
        }
        long[] rows = new long[nl];
        long[] distinct = new long[nl];
        long[] frequent = new long[nl];
        double[] maxSum = new double[nl];
        double[] totalSum = new double[nl];
        long[] over90 = new long[nl];
        // per (layer, expert): the best topTokens (token, count, rows) so far, best first
        int[][] bestToken = new int[nl * experts][];
        long[][] bestCount = new long[nl * experts][];
        long[][] bestRows = new long[nl * experts][];
        int[] filled = new int[nl * experts];
        for (int s = 0; s < slots; s++) {
            int layer = slotLayer[s];
            long total = slotRows[s];
            rows[layer] += total;
            distinct[layer]++;
            if (total < minCount) {
                continue;
            }
            int token = slotToken[s];
            long max = 0;
            for (int e = 0; e < experts; e++) {
                long value = perExpert[s * experts + e];
                if (value == 0) {
                    continue;
                }
                max = Math.max(max, value);
                int slot = layer * experts + e;
                if (bestToken[slot] == null) {
                    bestToken[slot] = new int[topTokens];
                    bestCount[slot] = new long[topTokens];
                    bestRows[slot] = new long[topTokens];
                }
                int n = filled[slot];
                int[] bt = bestToken[slot];
                long[] bc = bestCount[slot];
                long[] br = bestRows[slot];
                if (n == topTokens && compare(value, total, token, bc[n - 1], br[n - 1], bt[n - 1]) >= 0) {
                    continue;
                }
                int i = n == topTokens ? n - 1 : n;
                while (i > 0 && compare(value, total, token, bc[i - 1], br[i - 1], bt[i - 1]) < 0) {
                    bt[i] = bt[i - 1];
                    bc[i] = bc[i - 1];
                    br[i] = br[i - 1];
                    i--;
                }
                bt[i] = token;
                bc[i] = value;
                br[i] = total;
                filled[slot] = Math.min(topTokens, n + 1);
            }
            frequent[layer]++;
            maxSum[layer] += max;
            totalSum[layer] += total;
            if (max * 10 >= 9 * total) {
                over90[layer]++;
            }
        }
        List<Layer> out = new ArrayList<>();
        for (int layer = 0; layer < nl; layer++) {
            if (rows[layer] == 0) {
                continue;
            }
            List<ExpertTokens> perLayer = new ArrayList<>();
            for (int x = 0; x < experts; x++) {
                int slot = layer * experts + x;
                if (filled[slot] == 0) {
                    continue;
                }
                List<TokenShare> best = new ArrayList<>();
                for (int i = 0; i < filled[slot]; i++) {
                    best.add(new TokenShare(bestToken[slot][i], bestCount[slot][i], bestRows[slot][i],
                            (double) bestCount[slot][i] / bestRows[slot][i]));
                }
                perLayer.add(new ExpertTokens(x, List.copyOf(best)));
            }
            out.add(new Layer(layer, rows[layer], distinct[layer], frequent[layer],
                    frequent[layer] == 0 ? Double.NaN : maxSum[layer] / totalSum[layer], over90[layer],
                    (double) k / experts, perLayer));
        }
        return out;
    }
}
