package io.moeagent.analyzer.stats;

import java.util.Arrays;

/**
 * Temporal locality (Mixtral, Jiang et al. 2024, section 5): per layer, over consecutive tokens of a request
 * (position p, then p + 1, same layer), how often the first choice repeats and how often the two top-k sets
 * share an expert, with the overlap of the sets. Keeps only the previous token's selection per (request, layer),
 * in a bounded table: a request unseen for {@code staleRecords} route records is taken as finished and evicted.
 */
public final class LocalityTally implements RowTally {
    static final int DEFAULT_CAPACITY = 1 << 15;

    private final int experts;
    private final int stride;
    private final KeyedSlots slots;
    private final int[] lastPosition;
    private final int[] lastFirst;
    private final int[] lastK;
    private final int[] lastIds;
    private long records;

    /** Per layer id. */
    private long[] pairs = new long[0];
    private long[] firstPairs = new long[0];
    private long[] sameFirst = new long[0];
    private long[] anyOverlap = new long[0];
    private long[] overlapSum = new long[0];
    private long[] rows = new long[0];
    private long[] kSum = new long[0];
    private long[][] firstCounts = new long[0][];
    private long[][] selections = new long[0][];

    public LocalityTally(int experts, int topK, long staleRecords) {
        this(experts, topK, staleRecords, DEFAULT_CAPACITY);
    }

    LocalityTally(int experts, int topK, long staleRecords, int capacity) {
        this.experts = experts;
        this.stride = Math.max(1, topK);
        this.slots = new KeyedSlots(capacity, staleRecords);
        lastPosition = new int[capacity];
        lastFirst = new int[capacity];
        lastK = new int[capacity];
        lastIds = new int[capacity * stride];
    }

    @Override
    public void startRecord(int layer) {
        records = slots.startRecord();
    }

    @Override
    public void add(AnalysisRow r) {
        int layer = r.layer;
        ensureLayer(layer);
        int k = Math.min(r.k, stride);
        int first = r.firstChoice();
        int[] ids = r.ids;
        int off = r.offset;
        rows[layer]++;
        kSum[layer] += k;
        long[] sel = selections[layer];
        for (int j = 0; j < k; j++) {
            sel[ids[off + j]]++;
        }
        if (first >= 0) {
            firstCounts[layer][first]++;
        }
        int s = slots.find(r.request, layer);
        if (s < 0) {
            s = slots.insert(r.request, layer, records);
        } else {
            slots.touch(s, records);
            if (r.position == lastPosition[s] + 1) {
                pairs[layer]++;
                if (first >= 0 && lastFirst[s] >= 0) {
                    firstPairs[layer]++;
                    if (first == lastFirst[s]) {
                        sameFirst[layer]++;
                    }
                }
                int base = s * stride;
                int common = 0;
                for (int j = 0; j < k; j++) {
                    int e = ids[off + j];
                    for (int m = 0; m < lastK[s]; m++) {
                        if (lastIds[base + m] == e) {
                            common++;
                            break;
                        }
                    }
                }
                overlapSum[layer] += common;
                if (common > 0) {
                    anyOverlap[layer]++;
                }
            }
        }
        lastPosition[s] = r.position;
        lastFirst[s] = first;
        lastK[s] = k;
        System.arraycopy(ids, off, lastIds, s * stride, k);
    }

    private void ensureLayer(int layer) {
        if (layer < pairs.length) {
            return;
        }
        int n = Math.max(layer + 1, pairs.length * 2);
        int old = pairs.length;
        pairs = Arrays.copyOf(pairs, n);
        firstPairs = Arrays.copyOf(firstPairs, n);
        sameFirst = Arrays.copyOf(sameFirst, n);
        anyOverlap = Arrays.copyOf(anyOverlap, n);
        overlapSum = Arrays.copyOf(overlapSum, n);
        rows = Arrays.copyOf(rows, n);
        kSum = Arrays.copyOf(kSum, n);
        firstCounts = Arrays.copyOf(firstCounts, n);
        selections = Arrays.copyOf(selections, n);
        for (int i = old; i < n; i++) {
            firstCounts[i] = new long[experts];
            selections[i] = new long[experts];
        }
    }

    /** Per-(request, layer) states dropped as stale or to make room. */
    public long evictedStates() {
        return slots.evicted();
    }

    /**
     * One layer's locality. Rates are NaN without pairs. Chance levels: {@code uniformFirst} 1/E;
     * {@code marginalFirst} sum of squared first-choice shares (two independent tokens drawn from this layer's own
     * first-choice distribution); {@code uniformAny} 1 - C(E-k, k) / C(E, k); {@code uniformOverlap} k/E and
     * {@code marginalOverlap} sum_e q_e^2 / k, with q_e the share of rows selecting e (expected shared experts
     * of two independent rows, over k).
     */
    public record Layer(int layer, long rows, long pairs, long firstPairs, long sameFirst, long anyOverlap,
                        double firstRepeatRate, double anyOverlapRate, double meanOverlap,
                        double uniformFirst, double marginalFirst, double uniformAny, double uniformOverlap,
                        double marginalOverlap) {
    }

    /** The layer's figures, or null when no row of it was seen. */
    public Layer layer(int layer) {
        if (layer >= rows.length || rows[layer] == 0) {
            return null;
        }
        int k = (int) Math.round((double) kSum[layer] / rows[layer]);
        long firsts = 0;
        for (long c : firstCounts[layer]) {
            firsts += c;
        }
        double marginalFirst = Double.NaN;
        if (firsts > 0) {
            marginalFirst = 0;
            for (long c : firstCounts[layer]) {
                double p = (double) c / firsts;
                marginalFirst += p * p;
            }
        }
        double marginalOverlap = 0;
        for (long c : selections[layer]) {
            double q = (double) c / rows[layer];
            marginalOverlap += q * q;
        }
        marginalOverlap /= k;
        long p = pairs[layer];
        return new Layer(layer, rows[layer], p, firstPairs[layer], sameFirst[layer], anyOverlap[layer],
                firstPairs[layer] == 0 ? Double.NaN : (double) sameFirst[layer] / firstPairs[layer],
                p == 0 ? Double.NaN : (double) anyOverlap[layer] / p,
                p == 0 ? Double.NaN : (double) overlapSum[layer] / p / k,
                1.0 / experts, marginalFirst, uniformAny(experts, k), (double) k / experts, marginalOverlap);
    }

    /** P(two uniformly drawn k-subsets of E share an expert) = 1 - C(E-k, k) / C(E, k). */
    static double uniformAny(int e, int k) {
        if (2 * k > e) {
            return 1.0;
        }
        double disjoint = 1;
        for (int i = 0; i < k; i++) {
            disjoint *= (double) (e - k - i) / (e - i);
        }
        return 1 - disjoint;
    }
}
