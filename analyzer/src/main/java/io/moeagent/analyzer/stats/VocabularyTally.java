package io.moeagent.analyzer.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Vocabulary specialization (OLMoE, Muennighoff et al. 2024, section 5): per layer, how many times each input
 * token id was routed, and to which experts. An expert's specialization for a token is the share of the token's
 * routings (rows) that selected that expert: 1 when every occurrence went there, k/E when routing ignores the
 * token. Only rows that carry a token id count. Memory grows with the distinct (layer, token, expert) triples,
 * bounded by the vocabulary, not by the number of rows.
 */
public final class VocabularyTally implements RowTally {
    private static final int TOTAL = 0xFFFF;

    private final int experts;
    /** (layer, token, expert) -> rows; (layer, token, TOTAL) -> rows of the token. */
    private final LongCounts counts = new LongCounts(1 << 12);
    private long rowsWithIds;
    private long rowsWithoutIds;
    private long kSum;

    public VocabularyTally(int experts) {
        if (experts >= TOTAL) {
            throw new IllegalArgumentException("experts " + experts);
        }
        this.experts = experts;
    }

    static long key(int layer, int token, int expert) {
        return ((long) (layer & 0xFFFF) << 48) | ((token & 0xFFFFFFFFL) << 16) | expert;
    }

    @Override
    public void add(RouteRow r) {
        if (!r.hasTokenId) {
            rowsWithoutIds++;
            return;
        }
        rowsWithIds++;
        kSum += r.k;
        int layer = r.layer;
        int token = r.tokenId;
        counts.add(key(layer, token, TOTAL), 1);
        for (int j = 0; j < r.k; j++) {
            counts.add(key(layer, token, r.ids[r.offset + j]), 1);
        }
    }

    public long rowsWithIds() {
        return rowsWithIds;
    }

    public long rowsWithoutIds() {
        return rowsWithoutIds;
    }

    /** A token routed to an expert: {@code count} of the token's {@code tokenRows} rows, {@code share} = the ratio. */
    public record TokenShare(int token, long count, long tokenRows, double share) {
    }

    /** One expert's most specialised tokens (highest share, then most rows, then lowest id). */
    public record ExpertTokens(int expert, List<TokenShare> tokens) {
    }

    /**
     * One layer: {@code distinctTokens}, {@code frequentTokens} (at least {@code minCount} rows), over those the
     * row-weighted mean of each token's largest expert share ({@code meanMaxShare}; uniform routing gives about
     * k/E = {@code uniformShare}) and how many tokens send at least 90% of their rows to one expert; the top
     * tokens per expert.
     */
    public record Layer(int layer, long rows, long distinctTokens, long frequentTokens, double meanMaxShare,
                        long tokensOver90, double uniformShare, List<ExpertTokens> experts) {
    }

    /** Per-layer figures, ascending by layer; empty without token ids. */
    public List<Layer> layers(int minCount, int topTokens) {
        if (rowsWithIds == 0) {
            return List.of();
        }
        int k = (int) Math.round((double) kSum / rowsWithIds);
        LongCounts maxCount = new LongCounts(counts.size());
        java.util.Map<Integer, List<PriorityQueue<TokenShare>>> top = new java.util.TreeMap<>();
        Comparator<TokenShare> order = Comparator.comparingDouble(TokenShare::share)
                .thenComparingLong(TokenShare::count).thenComparing(Comparator.comparingInt(TokenShare::token)
                        .reversed());
        java.util.Map<Integer, long[]> layerRows = new java.util.TreeMap<>();
        counts.forEach((key, value) -> {
            int expert = (int) (key & 0xFFFF);
            int layer = (int) (key >>> 48);
            int token = (int) (key >>> 16);
            if (expert == TOTAL) {
                long[] lr = layerRows.computeIfAbsent(layer, l -> new long[2]);
                lr[0] += value;
                lr[1]++;
                return;
            }
            long total = counts.get(key(layer, token, TOTAL));
            if (total < minCount) {
                return;
            }
            maxCount.max(key(layer, token, 0), value);
            List<PriorityQueue<TokenShare>> perExpert = top.computeIfAbsent(layer, l -> {
                List<PriorityQueue<TokenShare>> list = new ArrayList<>();
                for (int e = 0; e < experts; e++) {
                    list.add(new PriorityQueue<>(order));
                }
                return list;
            });
            PriorityQueue<TokenShare> q = perExpert.get(expert);
            q.add(new TokenShare(token, value, total, (double) value / total));
            if (q.size() > topTokens) {
                q.poll();
            }
        });
        java.util.Map<Integer, double[]> summary = new java.util.TreeMap<>();
        maxCount.forEach((key, max) -> {
            int layer = (int) (key >>> 48);
            int token = (int) (key >>> 16);
            long total = counts.get(key(layer, token, TOTAL));
            double[] s = summary.computeIfAbsent(layer, l -> new double[4]);
            s[0]++;
            s[1] += max;
            s[2] += total;
            if (max >= 0.9 * total) {
                s[3]++;
            }
        });
        List<Layer> out = new ArrayList<>();
        for (var e : layerRows.entrySet()) {
            int layer = e.getKey();
            double[] s = summary.getOrDefault(layer, new double[4]);
            List<ExpertTokens> perExpert = new ArrayList<>();
            List<PriorityQueue<TokenShare>> qs = top.get(layer);
            if (qs != null) {
                for (int x = 0; x < experts; x++) {
                    List<TokenShare> best = new ArrayList<>(qs.get(x));
                    best.sort(order.reversed());
                    if (!best.isEmpty()) {
                        perExpert.add(new ExpertTokens(x, List.copyOf(best)));
                    }
                }
            }
            out.add(new Layer(layer, e.getValue()[0], e.getValue()[1], (long) s[0],
                    s[0] == 0 ? Double.NaN : s[1] / s[2], (long) s[3], (double) k / experts, perExpert));
        }
        return out;
    }
}
