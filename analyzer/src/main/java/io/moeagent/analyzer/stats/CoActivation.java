package io.moeagent.analyzer.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Co-activation (OLMoE section 5): P(j selected | i selected) within a row's top-k, from a layer's (or pooled)
 * counts: rows selecting both i and j over rows selecting i. The diagonal is 1 for selected experts.
 */
public final class CoActivation {
    private CoActivation() {
    }

    /** i selected, j selected with it in {@code count} of i's {@code given} rows; {@code lift} = P(j|i) / P(j). */
    public record Pair(int given, int expert, long count, long givenRows, double probability, double lift) {
    }

    /** {@code m[i][j]} = P(j | i); NaN rows for experts never selected. */
    public static double[][] matrix(RoutingTally.Counts c) {
        int e = c.experts();
        double[][] m = new double[e][e];
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < e; j++) {
                long sel = c.selections[i];
                m[i][j] = sel == 0 ? Double.NaN : i == j ? 1.0 : (double) both(c, i, j) / sel;
            }
        }
        return m;
    }

    /** Rows selecting both i and j (i != j). */
    public static long both(RoutingTally.Counts c, int i, int j) {
        int e = c.experts();
        return i < j ? c.pairs[i * e + j] : c.pairs[j * e + i];
    }

    /**
     * The strongest directed pairs: highest P(j | i) among experts i selected in at least {@code minRows} rows,
     * then most rows, then lowest ids.
     */
    public static List<Pair> strongest(RoutingTally.Counts c, int top, long minRows) {
        int e = c.experts();
        List<Pair> all = new ArrayList<>();
        for (int i = 0; i < e; i++) {
            long sel = c.selections[i];
            if (sel == 0 || sel < minRows) {
                continue;
            }
            for (int j = 0; j < e; j++) {
                long n = j == i ? 0 : both(c, i, j);
                if (n > 0) {
                    double p = (double) n / sel;
                    double pj = (double) c.selections[j] / c.rows;
                    all.add(new Pair(i, j, n, sel, p, p / pj));
                }
            }
        }
        all.sort(Comparator.comparingDouble(Pair::probability).reversed().thenComparing(
                Comparator.comparingLong(Pair::count).reversed()).thenComparingInt(Pair::given)
                .thenComparingInt(Pair::expert));
        return List.copyOf(all.subList(0, Math.min(top, all.size())));
    }
}
