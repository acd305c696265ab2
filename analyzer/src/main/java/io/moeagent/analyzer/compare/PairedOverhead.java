package io.moeagent.analyzer.compare;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The overhead of a treatment against a baseline from runs paired by round, with a 95 % bootstrap interval.
 *
 * <p>Round {@code i} gives one figure per side (e.g. the run's median decode-step time); its log ratio
 * {@code d_i = ln(t_i / b_i)} (for a rate such as tokens/s, {@code ln(b_i / t_i)}) is that round's overhead, so
 * a slow machine in one round cancels within the pair. The estimate is {@code exp(mean d) - 1}. The interval is
 * the 2.5 and 97.5 percentiles of the same statistic over {@link #RESAMPLES} bootstrap resamples (seeded, so the
 * same inputs give the same interval): rounds are drawn with replacement, and where a round's figure is the
 * median of per-step times, its steps are drawn again as well (a two-level bootstrap, so a run's own step-to-step
 * spread counts too). With few rounds the plain percentile interval is too narrow (it misses the true value far
 * more often than 5 %), so the percentiles are expanded as Hesterberg recommends ("What Teachers Should Know
 * about the Bootstrap", 2015): {@code alpha' = Phi(sqrt(n/(n-1)) t_{alpha/2, n-1})}; and since resampled means
 * can never leave the rounds' range, the interval is never narrower than Student's t interval over the rounds'
 * log ratios ({@code mean +- t_{0.975, n-1} s / sqrt(n)}), which matters below about ten rounds (with 3 rounds of
 * no effect, all three share a sign one time in four). Fewer than two rounds give no interval.
 */
public final class PairedOverhead {
    public static final int RESAMPLES = 10_000;
    public static final long SEED = 20261202L;
    /** z for a two-sided 95 % interval. */
    static final double Z95 = 1.959964;

    /** One side's figure in one round: a value, or per-step samples whose median is the value. */
    public record Sample(double value, double[] steps) {
        public static Sample of(double value) {
            return new Sample(value, null);
        }

        public static Sample ofSteps(double[] steps) {
            return new Sample(median(steps), steps.clone());
        }
    }

    /**
     * @param rounds          paired rounds used
     * @param percent         the overhead estimate in % (positive: the treatment is slower / costs more)
     * @param low             the interval's lower end in %, NaN with fewer than two rounds
     * @param high            upper end
     * @param roundSdPercent  standard deviation of the rounds' overheads, in % (NaN below two rounds)
     * @param roundPercents   each round's overhead in %, in round order
     */
    public record Result(int rounds, double percent, double low, double high, double roundSdPercent,
                         double[] roundPercents) {
        public boolean hasInterval() {
            return !Double.isNaN(low);
        }

        /** The interval contains zero: the data cannot tell the overhead from no overhead. */
        public boolean spansZero() {
            return hasInterval() && low <= 0 && high >= 0;
        }

        public double halfWidth() {
            return (high - low) / 2;
        }

        /**
         * About how many rounds would give an interval of half-width {@code halfWidthPercent} (e.g. to resolve an
         * overhead of that size from zero): {@code (1.96 s / h)^2} with {@code s} the rounds' spread; -1 if unknown.
         */
        public int roundsFor(double halfWidthPercent) {
            if (Double.isNaN(roundSdPercent) || halfWidthPercent <= 0) {
                return -1;
            }
            double n = Math.pow(Z95 * roundSdPercent / halfWidthPercent, 2);
            return (int) Math.max(2, Math.ceil(n));
        }

        /** "+1.23 % (CI 0.50 ... 1.96 %)", or "within noise (CI -0.80 ... 1.10 %)" when the interval spans zero. */
        public String describe() {
            if (!hasInterval()) {
                return String.format(Locale.ROOT, "no interval from %d round%s (need at least 2)", rounds,
                        rounds == 1 ? "" : "s");
            }
            String ci = String.format(Locale.ROOT, "CI %+.2f ... %+.2f %%", low, high);
            return spansZero() ? "within noise (" + ci + ")"
                    : String.format(Locale.ROOT, "%+.2f %% (%s)", percent, ci);
        }

        /**
         * Against an upper target (e.g. 2 %): "meets" when the whole interval is below it, "exceeds" when the whole
         * interval is above it, else "undecided".
         */
        public String verdict(double targetPercent) {
            if (!hasInterval()) {
                return "undecided";
            }
            if (high < targetPercent) {
                return "meets";
            }
            return low > targetPercent ? "exceeds" : "undecided";
        }
    }

    private PairedOverhead() {
    }

    /**
     * @param baseline  one sample per round
     * @param treatment one sample per round, same rounds in the same order
     * @param rate      true for a rate (higher is faster, e.g. tokens/s), false for a time or a cost
     */
    public static Result of(Sample[] baseline, Sample[] treatment, boolean rate) {
        if (baseline.length != treatment.length) {
            throw new IllegalArgumentException("unpaired: " + baseline.length + " vs " + treatment.length + " rounds");
        }
        int n = baseline.length;
        double[] d = new double[n];
        double[] perRound = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = logRatio(baseline[i].value(), treatment[i].value(), rate);
            perRound[i] = percent(d[i]);
        }
        double estimate = percent(mean(d));
        if (n < 2) {
            return new Result(n, estimate, Double.NaN, Double.NaN, Double.NaN, perRound);
        }
        SplittableRandom random = new SplittableRandom(SEED);
        double[] stats = new double[RESAMPLES];
        for (int b = 0; b < RESAMPLES; b++) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                int i = random.nextInt(n);
                sum += logRatio(resampled(baseline[i], random), resampled(treatment[i], random), rate);
            }
            stats[b] = sum / n;
        }
        Arrays.sort(stats);
        double tail = expandedTail(n);
        double tHalf = t975(n - 1) * sd(d) / Math.sqrt(n);
        double low = percent(Math.min(quantile(stats, tail), mean(d) - tHalf));
        double high = percent(Math.max(quantile(stats, 1 - tail), mean(d) + tHalf));
        return new Result(n, estimate, low, high, sd(perRound), perRound);
    }

    /** Student's t, 97.5 % quantile, for 1..30 degrees of freedom. */
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
        2.056, 2.052, 2.048, 2.045, 2.042};

    /** The lower tail probability of the expanded percentile interval for {@code n} rounds (0.025 as n grows). */
    public static double expandedTail(int n) {
        int df = n - 1;
        return normalCdf(-Math.sqrt(n / (double) df) * t975(df));
    }

    /** Student's t 97.5 % quantile (table to 30 degrees of freedom, then z + 2.5/df, within 0.002). */
    static double t975(int df) {
        return df <= T975.length ? T975[df - 1] : Z95 + 2.5 / df;
    }

    /**
     * The standard normal distribution function, from the complementary error function's Chebyshev fit in
     * Numerical Recipes (fractional error below 1.2e-7); written here because the JDK has no erf and the analyzer
     * needs nothing else from a statistics library.
     */
    public static double normalCdf(double x) {
        double z = Math.abs(x) / Math.sqrt(2);
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc / 2 : erfc / 2;
    }

    private static double resampled(Sample s, SplittableRandom random) {
        if (s.steps() == null || s.steps().length < 2) {
            return s.value();
        }
        double[] steps = s.steps();
        double[] draw = new double[steps.length];
        for (int i = 0; i < draw.length; i++) {
            draw[i] = steps[random.nextInt(steps.length)];
        }
        return median(draw);
    }

    private static double logRatio(double base, double treated, boolean rate) {
        return rate ? Math.log(base / treated) : Math.log(treated / base);
    }

    private static double percent(double logRatio) {
        return 100 * Math.expm1(logRatio);
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double sd(double[] v) {
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    public static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** Linear interpolation between order statistics (type 7) of a sorted array. */
    static double quantile(double[] sorted, double p) {
        double h = (sorted.length - 1) * p;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
