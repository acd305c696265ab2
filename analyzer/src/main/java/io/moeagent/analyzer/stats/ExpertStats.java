package io.moeagent.analyzer.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Load-balance figures of one selection-count vector over E experts (N selections in all, mean N/E):
 * share c/N; Shannon entropy in bits against log2 E; coefficient of variation (population standard deviation
 * over the mean); balancedness mean/max; Jain's index N^2 / (E * sum c^2); never-selected experts; the mean of
 * each row's summed top-k weights; the most selected experts and the pairs most often selected in the same row.
 * Figures that are undefined for no selections are NaN.
 */
public record ExpertStats(
        int experts,
        long rows,
        long selections,
        long[] counts,
        double entropyBits,
        double maxEntropyBits,
        double normalizedEntropy,
        double coefficientOfVariation,
        double balancedness,
        double jainIndex,
        int[] neverSelected,
        double meanTopkWeightSum,
        List<Ranked> topExperts,
        List<Pair> topPairs) {

    public record Ranked(int expert, long count, double share) {
    }

    /** Experts a &lt; b selected together in {@code count} rows; {@code share} is of all rows. */
    public record Pair(int a, int b, long count, double share) {
    }

    public static ExpertStats of(RoutingTally.Counts c, int topExperts, int topPairs) {
        int e = c.experts();
        long[] counts = c.selections.clone();
        long n = 0;
        long max = 0;
        double sumSquares = 0;
        List<Integer> never = new ArrayList<>();
        for (int i = 0; i < e; i++) {
            n += counts[i];
            max = Math.max(max, counts[i]);
            sumSquares += (double) counts[i] * counts[i];
            if (counts[i] == 0) {
                never.add(i);
            }
        }
        double maxEntropy = log2(e);
        double entropy = 0;
        double mean = (double) n / e;
        double variance = 0;
        for (long count : counts) {
            if (count > 0) {
                double p = (double) count / n;
                entropy -= p * log2(p);
            }
            variance += (count - mean) * (count - mean);
        }
        variance /= e;
        boolean any = n > 0;
        double normalized = !any ? Double.NaN : e == 1 ? 1.0 : entropy / maxEntropy;
        double cv = any ? Math.sqrt(variance) / mean : Double.NaN;
        double balance = any ? mean / max : Double.NaN;
        double jain = any ? (double) n * n / (e * sumSquares) : Double.NaN;
        double meanWeightSum = c.weightRows > 0 ? c.weightSum / c.weightRows : Double.NaN;
        return new ExpertStats(e, c.rows, n, counts, any ? entropy : Double.NaN, maxEntropy, normalized, cv, balance,
                jain, never.stream().mapToInt(Integer::intValue).toArray(), meanWeightSum,
                rankExperts(counts, n, topExperts), rankPairs(c, topPairs));
    }

    private static List<Ranked> rankExperts(long[] counts, long n, int top) {
        List<Ranked> all = new ArrayList<>();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                all.add(new Ranked(i, counts[i], (double) counts[i] / n));
            }
        }
        all.sort(Comparator.comparingLong(Ranked::count).reversed().thenComparingInt(Ranked::expert));
        return List.copyOf(all.subList(0, Math.min(top, all.size())));
    }

    private static List<Pair> rankPairs(RoutingTally.Counts c, int top) {
        int e = c.experts();
        List<Pair> all = new ArrayList<>();
        for (int a = 0; a < e; a++) {
            for (int b = a + 1; b < e; b++) {
                long count = c.pairs[a * e + b];
                if (count > 0) {
                    all.add(new Pair(a, b, count, (double) count / c.rows));
                }
            }
        }
        all.sort(Comparator.comparingLong(Pair::count).reversed().thenComparingInt(Pair::a).thenComparingInt(Pair::b));
        return List.copyOf(all.subList(0, Math.min(top, all.size())));
    }

    public double share(int expert) {
        return selections == 0 ? Double.NaN : (double) counts[expert] / selections;
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
