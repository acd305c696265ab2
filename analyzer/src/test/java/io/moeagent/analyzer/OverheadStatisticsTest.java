package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import io.moeagent.analyzer.compare.PairedOverhead;
import io.moeagent.analyzer.compare.PairedOverhead.Result;
import io.moeagent.analyzer.compare.PairedOverhead.Sample;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The paired bootstrap on fixed inputs: estimate, interval, verdict and the rounds it would take. */
class OverheadStatisticsTest {
    private static Sample[] values(double... v) {
        return Arrays.stream(v).mapToObj(Sample::of).toArray(Sample[]::new);
    }

    @Test
    void aConstantRatioGivesThatOverheadWithAZeroWidthInterval() {
        Result r = PairedOverhead.of(values(10, 20, 40, 5), values(10.5, 21, 42, 5.25), false);
        assertEquals(5.0, r.percent(), 1e-9);
        assertEquals(5.0, r.low(), 1e-9);
        assertEquals(5.0, r.high(), 1e-9);
        assertFalse(r.spansZero());
        assertEquals("+5.00 % (CI +5.00 ... +5.00 %)", r.describe());
        assertEquals("exceeds", r.verdict(2.0));
        assertEquals("meets", r.verdict(6.0));
    }

    @Test
    void aRateIsInvertedSoSlowerIsPositive() {
        // tokens/s 100 -> 80 is 25 % more time per token
        Result r = PairedOverhead.of(values(100, 200), values(80, 160), true);
        assertEquals(25.0, r.percent(), 1e-9);
    }

    /** Pairing cancels a slow machine in one round: unpaired, these rounds would be noise of a factor 4. */
    @Test
    void pairingCancelsRoundToRoundDrift() {
        Result r = PairedOverhead.of(values(10, 40, 20, 11, 35), values(10.1, 40.4, 20.2, 11.11, 35.35), false);
        assertEquals(1.0, r.percent(), 1e-9);
        assertEquals(1.0, r.low(), 1e-9);
        assertEquals(1.0, r.high(), 1e-9);
    }

    /**
     * Rounds 1 %, -1 %, 3 %, -2 %, 4 % (as log ratios): the interval is the 2.5/97.5 percentiles of 10000 seeded
     * resampled means, which must contain the estimate, lie inside the rounds' range and span zero here; the
     * same inputs give the same interval to the last bit.
     */
    @Test
    void spanningZeroReadsWithinNoiseAndIsReproducible() {
        double[] pct = {1, -1, 3, -2, 4};
        Sample[] base = values(100, 100, 100, 100, 100);
        Sample[] treated = Arrays.stream(pct).mapToObj(p -> Sample.of(100 * Math.exp(Math.log1p(p / 100))))
                .toArray(Sample[]::new);
        Result r = PairedOverhead.of(base, treated, false);
        double meanLog = Arrays.stream(pct).map(p -> Math.log1p(p / 100)).average().orElseThrow();
        assertEquals(100 * Math.expm1(meanLog), r.percent(), 1e-9);
        assertTrue(r.low() < r.percent() && r.percent() < r.high(), r.toString());
        assertTrue(r.low() > -3 && r.high() < 5, r.toString());
        assertTrue(r.spansZero());
        assertTrue(r.describe().startsWith("within noise (CI "), r.describe());
        assertEquals("undecided", r.verdict(2.0));
        Result again = PairedOverhead.of(base, treated, false);
        assertEquals(r.low(), again.low(), 0.0);
        assertEquals(r.high(), again.high(), 0.0);
        // the expanded percentile interval of a mean is close to the t interval mean +- t(0.975, 4) sd / sqrt(n)
        double sd = r.roundSdPercent();
        double t = 2.776 * sd / Math.sqrt(5);
        assertEquals(t, r.halfWidth(), 0.25 * t, r.toString());
        // rounds for a +-1 % interval: (1.96 sd / 1)^2
        assertEquals((int) Math.ceil(Math.pow(1.959964 * sd, 2)), r.roundsFor(1.0));
    }

    /** 40 rounds of a true 3 % overhead under 2 % noise: the interval covers 3 % and excludes zero. */
    @Test
    void findsAKnownOverheadInNoise() {
        Random rnd = new Random(7);
        int n = 40;
        Sample[] base = new Sample[n];
        Sample[] treated = new Sample[n];
        for (int i = 0; i < n; i++) {
            double machine = 50 * (1 + 0.3 * rnd.nextDouble());
            base[i] = Sample.of(machine * (1 + 0.02 * rnd.nextGaussian()));
            treated[i] = Sample.of(machine * 1.03 * (1 + 0.02 * rnd.nextGaussian()));
        }
        Result r = PairedOverhead.of(base, treated, false);
        assertTrue(r.low() > 0 && r.low() < 3 && r.high() > 3, r.toString());
        assertTrue(r.halfWidth() < 1.5, r.toString());
        assertEquals("exceeds", r.verdict(1.0));
    }

    /** Per-step samples: the value is the median, and the steps' spread widens the interval. */
    @Test
    void stepsAreResampledWithinRounds() {
        double[] steps = {10, 11, 9, 10, 30, 10, 12, 8, 10};
        Sample s = Sample.ofSteps(steps);
        assertEquals(10.0, s.value());
        Sample[] base = {Sample.ofSteps(steps), Sample.ofSteps(steps), Sample.ofSteps(steps)};
        Sample[] same = {Sample.ofSteps(steps), Sample.ofSteps(steps), Sample.ofSteps(steps)};
        Result r = PairedOverhead.of(base, same, false);
        assertEquals(0.0, r.percent(), 1e-12);
        assertTrue(r.low() < 0 && r.high() > 0, "identical runs still have step noise: " + r);
        Result plain = PairedOverhead.of(values(10, 10, 10), values(10, 10, 10), false);
        assertEquals(0.0, plain.low(), 1e-12);
        assertEquals(0.0, plain.high(), 1e-12);
    }

    /** The expanded tails: the whole range for 3 rounds, nearly the plain 2.5 % for many. */
    @Test
    void fewRoundsWidenTheInterval() {
        assertEquals(0.975, PairedOverhead.normalCdf(1.959964), 1e-6);
        assertEquals(0.5, PairedOverhead.normalCdf(0), 1e-7);
        assertTrue(PairedOverhead.expandedTail(3) < 1e-6);
        assertEquals(0.001, PairedOverhead.expandedTail(5), 0.0005);
        assertEquals(0.025, PairedOverhead.expandedTail(400), 0.001);
        // 3 rounds: resampled means stay within the rounds' range, so Student's t interval over the rounds' log
        // ratios is the wider one: mean +- 4.303 s / sqrt(3)
        Result r = PairedOverhead.of(values(100, 100, 100), values(101, 99, 103), false);
        double[] d = {Math.log(1.01), Math.log(0.99), Math.log(1.03)};
        double mean = (d[0] + d[1] + d[2]) / 3;
        double s = Math.sqrt(((d[0] - mean) * (d[0] - mean) + (d[1] - mean) * (d[1] - mean)
                + (d[2] - mean) * (d[2] - mean)) / 2);
        assertEquals(100 * Math.expm1(mean - 4.303 * s / Math.sqrt(3)), r.low(), 1e-9);
        assertEquals(100 * Math.expm1(mean + 4.303 * s / Math.sqrt(3)), r.high(), 1e-9);
        assertTrue(r.spansZero(), "three rounds of one sign are not enough here: " + r);
    }

    @Test
    void oneRoundGivesNoInterval() {
        Result r = PairedOverhead.of(values(10), values(11), false);
        assertEquals(10.0, r.percent(), 1e-9);
        assertFalse(r.hasInterval());
        assertFalse(r.spansZero());
        assertEquals("undecided", r.verdict(2));
        assertEquals(-1, r.roundsFor(1));
        assertTrue(r.describe().contains("need at least 2"));
    }

    @Test
    void unpairedInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> PairedOverhead.of(values(1, 2), values(1), false));
    }
}
