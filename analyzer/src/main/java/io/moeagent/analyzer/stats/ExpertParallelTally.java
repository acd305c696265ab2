package io.moeagent.analyzer.stats;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Expert-parallel load per route record (one step in one layer, the unit an EP all-to-all serves): the busiest
 * expert against the mean (the capacity factor that would drop no token), assignments dropped at given capacity
 * factors (per-expert capacity ceil(cf * S / E) for S selections in the record), and for each EP degree D the
 * busiest device against the mean device, with experts placed round-robin and balanced greedily from this
 * layer's recorded loads. The balanced placement is only known at the end, so it is scored on a reservoir
 * sample of the layer's records (all of them when there are at most {@link #reservoir} records).
 */
public final class ExpertParallelTally implements RowTally {
    private final int experts;
    private final int[] degrees;
    private final double[] factors;
    private final int reservoir;
    private final SplittableRandom random = new SplittableRandom(20240101L);

    private final long[] current;
    private int currentLayer = -1;
    private long currentSelections;

    private PerLayer[] layers = new PerLayer[0];

    static final class PerLayer {
        long records;
        long selections;
        double peakSum;
        double peakMax;
        final long[] dropped;
        final double[] rrSum;
        final double[] rrMax;
        final long[] totals;
        final List<long[]> sample = new ArrayList<>();

        PerLayer(int experts, int degrees, int factors) {
            dropped = new long[factors];
            rrSum = new double[degrees];
            rrMax = new double[degrees];
            totals = new long[experts];
        }
    }

    /**
     * @param degrees   EP degrees D (each at most E)
     * @param factors   capacity factors
     * @param reservoir records per layer kept to score the balanced placement
     */
    public ExpertParallelTally(int experts, int[] degrees, double[] factors, int reservoir) {
        this.experts = experts;
        this.degrees = Arrays.stream(degrees).filter(d -> d >= 1 && d <= experts).distinct().sorted().toArray();
        this.factors = factors.clone();
        this.reservoir = Math.max(1, reservoir);
        current = new long[experts];
    }

    /** Records per layer to sample: at most 2048, and about 4 M load counters over all layers. */
    public static int reservoirFor(int experts, int layers) {
        long perLayer = (1L << 22) / ((long) experts * Math.max(1, layers));
        return (int) Math.max(64, Math.min(2048, perLayer));
    }

    public int[] degrees() {
        return degrees.clone();
    }

    public double[] factors() {
        return factors.clone();
    }

    @Override
    public void startRecord(int layer) {
        currentLayer = layer;
        Arrays.fill(current, 0);
        currentSelections = 0;
    }

    @Override
    public void add(AnalysisRow r) {
        long[] c = current;
        int[] ids = r.ids;
        for (int j = r.offset, end = r.offset + r.k; j < end; j++) {
            c[ids[j]]++;
        }
        currentSelections += r.k;
    }

    @Override
    public void endRecord() {
        if (currentLayer < 0 || currentSelections == 0) {
            return;
        }
        PerLayer p = layer(currentLayer);
        p.records++;
        p.selections += currentSelections;
        long max = 0;
        for (int e = 0; e < experts; e++) {
            max = Math.max(max, current[e]);
            p.totals[e] += current[e];
        }
        double peak = max * (double) experts / currentSelections;
        p.peakSum += peak;
        p.peakMax = Math.max(p.peakMax, peak);
        for (int f = 0; f < factors.length; f++) {
            long capacity = (long) Math.ceil(factors[f] * currentSelections / experts - 1e-9);
            long dropped = 0;
            for (int e = 0; e < experts; e++) {
                dropped += Math.max(0, current[e] - capacity);
            }
            p.dropped[f] += dropped;
        }
        for (int d = 0; d < degrees.length; d++) {
            int devices = degrees[d];
            long[] dev = new long[devices];
            for (int e = 0; e < experts; e++) {
                dev[e % devices] += current[e];
            }
            long dmax = 0;
            for (long v : dev) {
                dmax = Math.max(dmax, v);
            }
            double imb = dmax * (double) devices / currentSelections;
            p.rrSum[d] += imb;
            p.rrMax[d] = Math.max(p.rrMax[d], imb);
        }
        if (p.sample.size() < reservoir) {
            p.sample.add(current.clone());
        } else {
            long j = random.nextLong(p.records);
            if (j < reservoir) {
                p.sample.set((int) j, current.clone());
            }
        }
        currentLayer = -1;
    }

    private PerLayer layer(int layer) {
        if (layer >= layers.length) {
            layers = Arrays.copyOf(layers, Math.max(layer + 1, layers.length * 2));
        }
        if (layers[layer] == null) {
            layers[layer] = new PerLayer(experts, degrees.length, factors.length);
        }
        return layers[layer];
    }

    /** Imbalance of one placement at one degree: per-record mean and max, and on the layer's pooled loads. */
    public record Imbalance(double mean, double max, double pooled) {
    }

    /** One EP degree: round-robin (every record) and balanced (the sampled records), plus the placement. */
    public record Degree(int devices, Imbalance roundRobin, Imbalance balanced, int[] balancedPlacement) {
    }

    /**
     * One layer: records and selections; {@code meanPeak}/{@code maxPeak} of max expert load over mean expert
     * load per record; {@code droppedShare[f]} = dropped assignments / selections at {@code factors[f]};
     * {@code sampledRecords} behind the balanced figures.
     */
    public record Layer(int layer, long records, long selections, double meanPeak, double maxPeak,
                        double[] droppedShare, long sampledRecords, List<Degree> degrees) {
    }

    public List<Layer> layers() {
        List<Layer> out = new ArrayList<>();
        for (int l = 0; l < layers.length; l++) {
            PerLayer p = layers[l];
            if (p == null) {
                continue;
            }
            double[] dropped = new double[factors.length];
            for (int f = 0; f < factors.length; f++) {
                dropped[f] = (double) p.dropped[f] / p.selections;
            }
            List<Degree> ds = new ArrayList<>();
            for (int d = 0; d < degrees.length; d++) {
                int devices = degrees[d];
                int[] rr = ExpertPlacement.roundRobin(experts, devices);
                int[] bal = ExpertPlacement.balanced(p.totals, devices);
                double sum = 0;
                double max = 0;
                for (long[] loads : p.sample) {
                    double v = ExpertPlacement.imbalance(loads, bal, devices);
                    sum += v;
                    max = Math.max(max, v);
                }
                ds.add(new Degree(devices,
                        new Imbalance(p.rrSum[d] / p.records, p.rrMax[d],
                                ExpertPlacement.imbalance(p.totals, rr, devices)),
                        new Imbalance(sum / p.sample.size(), max, ExpertPlacement.imbalance(p.totals, bal, devices)),
                        bal));
            }
            out.add(new Layer(l, p.records, p.selections, p.peakSum / p.records, p.peakMax, dropped,
                    p.sample.size(), ds));
        }
        return out;
    }
}
