package io.moeagent.analyzer.diff;

import io.moeagent.analyzer.stats.RoutingTally;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * Two recordings' expert distributions compared per layer: the Jensen-Shannon divergence (base 2, 0 = the same
 * shares, 1 = disjoint experts) between each layer's selection shares, and the experts whose share changes most.
 */
public final class RouteDiff {
    /** One layer present in both: JSD of the shares, selections on each side. */
    public record Layer(int layer, long selectionsA, long selectionsB, double jsdBits) {
    }

    /** An expert's share of its layer's selections in A and in B. */
    public record Change(int layer, int expert, double shareA, double shareB) {
        public double delta() {
            return shareB - shareA;
        }
    }

    public record Result(List<Layer> layers, Layer pooled, List<Integer> onlyA, List<Integer> onlyB,
                         List<Change> biggest) {
        public double maxJsd() {
            return layers.stream().mapToDouble(Layer::jsdBits).max().orElse(Double.NaN);
        }
    }

    private RouteDiff() {
    }

    public static Result of(RoutingTally a, RoutingTally b, int top) {
        if (a.experts() != b.experts()) {
            throw new IllegalArgumentException("experts " + a.experts() + " vs " + b.experts());
        }
        TreeSet<Integer> la = new TreeSet<>();
        TreeSet<Integer> lb = new TreeSet<>();
        for (int l : a.layers()) {
            if (a.layer(l).rows > 0) {
                la.add(l);
            }
        }
        for (int l : b.layers()) {
            if (b.layer(l).rows > 0) {
                lb.add(l);
            }
        }
        List<Layer> layers = new ArrayList<>();
        List<Change> changes = new ArrayList<>();
        List<Integer> onlyA = new ArrayList<>();
        List<Integer> onlyB = new ArrayList<>();
        for (int l : la) {
            if (!lb.contains(l)) {
                onlyA.add(l);
                continue;
            }
            long[] ca = a.layer(l).selections;
            long[] cb = b.layer(l).selections;
            layers.add(new Layer(l, sum(ca), sum(cb), jsd(ca, cb)));
            double na = sum(ca);
            double nb = sum(cb);
            for (int e = 0; e < ca.length; e++) {
                changes.add(new Change(l, e, ca[e] / na, cb[e] / nb));
            }
        }
        for (int l : lb) {
            if (!la.contains(l)) {
                onlyB.add(l);
            }
        }
        changes.sort(Comparator.comparingDouble((Change c) -> Math.abs(c.delta())).reversed()
                .thenComparingInt(Change::layer).thenComparingInt(Change::expert));
        long[] pa = a.overall().selections;
        long[] pb = b.overall().selections;
        Layer pooled = new Layer(-1, sum(pa), sum(pb), sum(pa) > 0 && sum(pb) > 0 ? jsd(pa, pb) : Double.NaN);
        return new Result(layers, pooled, onlyA, onlyB,
                List.copyOf(changes.subList(0, Math.min(top, changes.size()))));
    }

    static long sum(long[] c) {
        long s = 0;
        for (long v : c) {
            s += v;
        }
        return s;
    }

    /** JSD(P || Q) in bits of two count vectors, each normalised to shares. */
    public static double jsd(long[] a, long[] b) {
        double na = sum(a);
        double nb = sum(b);
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            double p = a[i] / na;
            double q = b[i] / nb;
            double m = (p + q) / 2;
            if (p > 0) {
                d += 0.5 * p * Math.log(p / m);
            }
            if (q > 0) {
                d += 0.5 * q * Math.log(q / m);
            }
        }
        return Math.max(0, d / Math.log(2));
    }
}
