package io.moeagent.analyzer.cost;

import io.moeagent.format.RouteFormat;
import io.moeagent.format.StatsRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's account of one recording session (one run id): its last stats record, which is the closing one
 * when the host exited or detached normally, or the last periodic one when it was killed.
 *
 * @param runId        the session's run id
 * @param last         its last stats record in queue order
 * @param statsRecords how many stats records the run wrote
 */
public record AgentCost(long runId, StatsRecord last, int statsRecords) {

    /** Whether the last record is a closing one (exit or detach) rather than periodic or stopped. */
    public boolean closed() {
        return last.reason() == RouteFormat.STATS_EXIT || last.reason() == RouteFormat.STATS_DETACH;
    }

    /** The first call's time (appender, meta record, cold code), or -1 when the agent did not say. */
    public long firstCallNanos() {
        return last.extra().getOrDefault("first_call_nanos", -1L);
    }

    /** The longest call's time, or -1 when the agent did not say. */
    public long maxCallNanos() {
        return last.extra().getOrDefault("max_call_nanos", -1L);
    }

    /** The warm-up calls the agent was configured for ({@code warmup=N}; 0 = off), or -1 when it did not say. */
    public long warmupPlanned() {
        return last.extra().getOrDefault("warmup_planned", -1L);
    }

    /**
     * How the warm-up ended (agent's AgentStats.WARMUP_*): -1 off, 0 still running, 1 all planned calls done, 2
     * stopped at the host's first selection call, 3 cut short by exit or detach, 4 failed; -1 when not said.
     */
    public long warmupEnd() {
        return last.extra().getOrDefault("warmup_end", -1L);
    }

    /** Synthetic calls of the agent's start-up warm-up (0 when it was off), or -1 when the agent did not say. */
    public long warmupCalls() {
        return last.extra().getOrDefault("warmup_calls", -1L);
    }

    /** The warm-up's wall time (start-up cost, not part of {@link StatsRecord#nanosInside()}), or -1. */
    public long warmupNanos() {
        return last.extra().getOrDefault("warmup_nanos", -1L);
    }

    /** The warm-up thread's CPU time, or -1 when the agent did not say (0 where the JVM cannot measure it). */
    public long warmupCpuNanos() {
        return last.extra().getOrDefault("warmup_cpu_nanos", -1L);
    }

    /** Mean time per call after the first (the steady cost); the plain mean when the first is unknown. */
    public double steadyNanosPerCall() {
        long first = firstCallNanos();
        if (first < 0 || last.calls() < 2) {
            return last.nanosPerCall();
        }
        return (double) (last.nanosInside() - first) / (last.calls() - 1);
    }

    /**
     * A quantile (0..1) of the per-call time from the agent's call histogram ({@code hist.<bucket>} counters: four
     * buckets per power of two), interpolated within its bucket; NaN when the record has no histogram. Unlike the
     * mean, the median is untouched by the few calls during which the scheduler took the thread away.
     */
    public double callQuantileNanos(double q) {
        java.util.TreeMap<Integer, Long> buckets = new java.util.TreeMap<>();
        long total = 0;
        for (Map.Entry<String, Long> e : last.extra().entrySet()) {
            if (e.getKey().startsWith("hist.")) {
                try {
                    buckets.put(Integer.parseInt(e.getKey().substring(5)), e.getValue());
                    total += e.getValue();
                } catch (NumberFormatException ignored) {
                    // not a bucket
                }
            }
        }
        if (total == 0) {
            return Double.NaN;
        }
        double rank = q * total;
        long seen = 0;
        for (Map.Entry<Integer, Long> e : buckets.entrySet()) {
            if (seen + e.getValue() >= rank) {
                double low = bucketLow(e.getKey());
                double high = bucketLow(e.getKey() + 1);
                return low + (high - low) * Math.max(0, rank - seen) / e.getValue();
            }
            seen += e.getValue();
        }
        return bucketLow(buckets.lastKey() + 1);
    }

    /** The smallest duration of histogram bucket {@code b} (see the agent's AgentStats.bucket). */
    static double bucketLow(int b) {
        if (b < 4) {
            return b;
        }
        int k = b / 4;
        int sub = b % 4;
        return Math.pow(2, k) * (1 + sub / 4.0);
    }

    /** Time inside the agent as a share (0..1) of {@code generationMillis}; NaN if that is not positive. */
    public double shareOf(double generationMillis) {
        return generationMillis > 0 ? last.nanosInside() / (generationMillis * 1e6) : Double.NaN;
    }

    /** Time inside the agent as a share of the recording's elapsed time (JVM start-up and model load included). */
    public double shareOfElapsed() {
        return last.elapsedNanos() > 0 ? (double) last.nanosInside() / last.elapsedNanos() : Double.NaN;
    }

    /** Gathers the last stats record of every run id, in order of first appearance. */
    public static final class Collector {
        private final Map<Long, StatsRecord> last = new LinkedHashMap<>();
        private final Map<Long, Integer> count = new LinkedHashMap<>();

        public void add(StatsRecord stats, long runId) {
            last.put(runId, stats);
            count.merge(runId, 1, Integer::sum);
        }

        public List<AgentCost> runs() {
            List<AgentCost> out = new ArrayList<>();
            last.forEach((id, s) -> out.add(new AgentCost(id, s, count.get(id))));
            return out;
        }
    }
}
