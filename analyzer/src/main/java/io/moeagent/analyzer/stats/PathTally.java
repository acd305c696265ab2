package io.moeagent.analyzer.stats;

import java.util.Arrays;

/**
 * Layer-to-layer paths: for the same token (request, position), its experts at one logged layer against its
 * experts at the next logged layer. Counts first choice -> first choice and every selected pair (i at l, j at
 * the next layer). Keeps only each in-flight token's last layer, in a bounded table; a token is dropped once its
 * last logged layer is in, or when unseen for {@code staleRecords} route records.
 */
public final class PathTally implements RowTally {
    private final int experts;
    private final int stride;
    private final int[] logged;
    private final KeyedSlots slots;
    private final int[] lastLayer;
    private final int[] lastFirst;
    private final int[] lastK;
    private final int[] lastIds;
    private long records;

    /** Indexed by the destination layer id. */
    private Transition[] into = new Transition[0];

    /** Counts into one layer from the logged layer before it. */
    public static final class Transition {
        public final int from;
        public final int to;
        /** {@code first[i * E + j]}: first choice i at {@code from}, j at {@code to}. */
        public final long[] first;
        /** {@code sets[i * E + j]}: i selected at {@code from} and j at {@code to}, same token. */
        public final long[] sets;
        /** {@code fromSelections[i]}: tokens with i selected at {@code from} that reached {@code to}. */
        public final long[] fromSelections;
        public long tokens;
        public long firstTokens;

        Transition(int from, int to, int experts) {
            this.from = from;
            this.to = to;
            first = new long[experts * experts];
            sets = new long[experts * experts];
            fromSelections = new long[experts];
        }
    }

    public PathTally(int experts, int topK, int[] layersLogged, long staleRecords) {
        this(experts, topK, layersLogged, staleRecords, LocalityTally.DEFAULT_CAPACITY);
    }

    PathTally(int experts, int topK, int[] layersLogged, long staleRecords, int capacity) {
        this.experts = experts;
        this.stride = Math.max(1, topK);
        this.logged = layersLogged.clone();
        Arrays.sort(this.logged);
        slots = new KeyedSlots(capacity, staleRecords);
        lastLayer = new int[capacity];
        lastFirst = new int[capacity];
        lastK = new int[capacity];
        lastIds = new int[capacity * stride];
        indexLayers();
    }

    /** {@code previousOf[layer]}: the logged layer before it, -1 for the first or an unlisted layer. */
    private int[] previousOf = new int[0];

    /** The logged layer before {@code layer}, or -1 (first layer, or a layer the meta does not list). */
    int previous(int layer) {
        if (logged.length == 0) {
            return layer - 1;
        }
        if (layer < previousOf.length) {
            return previousOf[layer];
        }
        int i = Arrays.binarySearch(logged, layer);
        return i > 0 ? logged[i - 1] : -1;
    }

    private void indexLayers() {
        if (logged.length == 0 || logged[logged.length - 1] > 1 << 16) {
            return;
        }
        previousOf = new int[logged[logged.length - 1] + 1];
        Arrays.fill(previousOf, -1);
        for (int i = 1; i < logged.length; i++) {
            previousOf[logged[i]] = logged[i - 1];
        }
    }

    private boolean isLast(int layer) {
        return logged.length > 0 && layer >= logged[logged.length - 1];
    }

    @Override
    public void startRecord(int layer) {
        records = slots.startRecord();
    }

    @Override
    public void add(AnalysisRow r) {
        int layer = r.layer;
        int k = Math.min(r.k, stride);
        int first = r.firstChoice();
        int s = slots.find(r.request, r.position);
        if (s >= 0) {
            int prev = previous(layer);
            if (prev >= 0 && lastLayer[s] == prev) {
                count(transition(prev, layer), s, first, r.ids, r.offset, k);
            }
        }
        if (isLast(layer)) {
            if (s >= 0) {
                slots.remove(s);
            }
            return;
        }
        if (s < 0) {
            s = slots.insert(r.request, r.position, records);
        } else {
            slots.touch(s, records);
        }
        lastLayer[s] = layer;
        lastFirst[s] = first;
        lastK[s] = k;
        System.arraycopy(r.ids, r.offset, lastIds, s * stride, k);
    }

    private void count(Transition t, int s, int first, int[] ids, int off, int k) {
        int e = experts;
        t.tokens++;
        if (first >= 0 && lastFirst[s] >= 0) {
            t.firstTokens++;
            t.first[lastFirst[s] * e + first]++;
        }
        int base = s * stride;
        for (int m = 0; m < lastK[s]; m++) {
            int i = lastIds[base + m];
            t.fromSelections[i]++;
            int row = i * e;
            for (int j = 0; j < k; j++) {
                t.sets[row + ids[off + j]]++;
            }
        }
    }

    private Transition transition(int from, int to) {
        if (to >= into.length) {
            into = Arrays.copyOf(into, Math.max(to + 1, into.length * 2));
        }
        Transition t = into[to];
        if (t == null) {
            t = new Transition(from, to, experts);
            into[to] = t;
        }
        return t;
    }

    /** Transitions seen, by ascending destination layer. */
    public java.util.List<Transition> transitions() {
        java.util.List<Transition> out = new java.util.ArrayList<>();
        for (Transition t : into) {
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    public int experts() {
        return experts;
    }

    /** In-flight token states dropped as stale or to make room. */
    public long evictedStates() {
        return slots.evicted();
    }

    /**
     * How predictable a transition's first choice is from the previous layer's first choice (NaN without tokens):
     * {@code hitRate} = sum_i max_j F[i][j] / N, the share of tokens whose next first choice is the most common
     * successor of their first choice (the table fitted on these same tokens, so an upper bound for a static
     * table); {@code baselineHitRate} = max_j F[.][j] / N (always guess the layer's most common first choice);
     * {@code conditionalEntropyBits} H(J | I); {@code nextEntropyBits} H(J); {@code mutualInformationBits}
     * H(J) - H(J | I).
     */
    public record Predictability(long tokens, double hitRate, double baselineHitRate, double conditionalEntropyBits,
                                 double nextEntropyBits, double mutualInformationBits) {
    }

    public static Predictability predictability(Transition t, int experts) {
        long n = 0;
        long hits = 0;
        double hCond = 0;
        long[] col = new long[experts];
        for (int i = 0; i < experts; i++) {
            long rowSum = 0;
            long rowMax = 0;
            for (int j = 0; j < experts; j++) {
                long c = t.first[i * experts + j];
                rowSum += c;
                rowMax = Math.max(rowMax, c);
                col[j] += c;
            }
            n += rowSum;
            hits += rowMax;
            for (int j = 0; j < experts; j++) {
                long c = t.first[i * experts + j];
                if (c > 0) {
                    hCond -= c * log2((double) c / rowSum);
                }
            }
        }
        if (n == 0) {
            return new Predictability(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        long colMax = 0;
        double h = 0;
        for (long c : col) {
            colMax = Math.max(colMax, c);
            if (c > 0) {
                double p = (double) c / n;
                h -= p * log2(p);
            }
        }
        hCond /= n;
        return new Predictability(n, (double) hits / n, (double) colMax / n, hCond, h, h - hCond);
    }

    static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
