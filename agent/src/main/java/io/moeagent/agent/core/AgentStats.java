package io.moeagent.agent.core;

import io.moeagent.format.StatsRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The agent's own account of a recording session: selection calls, time spent inside the recording path, records
 * and bytes written, and what was not written. Counters are {@link LongAdder}s, so host threads never contend on
 * one cache line; a reader's sums may lag a call in flight by that call, which the closing record does not.
 */
final class AgentStats {
    /** Why recording stopped before detach or exit: not yet, a max-records/max-bytes cap, or a failure. */
    static final int RUNNING = 0;
    static final int CAP = 1;
    static final int ERROR = 2;
    /** The disk guard refused a record: the file system was below min-free-space. */
    static final int DISK = 3;

    final LongAdder nanosInside = new LongAdder();
    final LongAdder recordedCalls = new LongAdder();
    final LongAdder records = new LongAdder();
    final LongAdder bytes = new LongAdder();
    final LongAdder droppedCap = new LongAdder();
    final LongAdder droppedError = new LongAdder();
    final LongAdder droppedDisk = new LongAdder();
    /** The longest call; written only when a call is longer than all before (rare after the first calls). */
    private final LongAccumulator maxCallNanos = new LongAccumulator(Math::max, 0);
    private volatile long maxSeen;
    /** The session's first call (opens the thread's appender, writes the meta record, runs cold code); -1 before. */
    private volatile long firstCallNanos = -1;
    /**
     * Calls by duration, four buckets per power of two (bucket {@code 4k + s} holds durations in
     * {@code [2^k (1 + s/4), 2^k (1 + (s+1)/4))} ns), so a reader can tell the typical call from the ones the
     * scheduler interrupted. Written into the stats record's extra counters as {@code hist.<bucket>}. The
     * buckets also count the calls, so a call costs two clock reads and two uncontended adds.
     */
    static final int BUCKETS = 4 * 40;
    private final LongAdder[] histogram = new LongAdder[BUCKETS];

    AgentStats() {
        for (int i = 0; i < BUCKETS; i++) {
            histogram[i] = new LongAdder();
        }
    }

    /** The histogram bucket of a duration in nanoseconds. */
    static int bucket(long nanos) {
        if (nanos < 4) {
            return (int) Math.max(0, nanos);
        }
        int k = 63 - Long.numberOfLeadingZeros(nanos);
        int sub = (int) (nanos >>> (k - 2)) & 3;
        return Math.min(BUCKETS - 1, 4 * k + sub);
    }
    private final long startNanos = System.nanoTime();
    private volatile int stoppedBy = RUNNING;
    /**
     * The start-up warm-up ({@link Warmup}): synthetic calls run, its wall time and its thread's CPU time. Start-up
     * cost, not generation cost: kept apart from {@link #nanosInside} and the call counters.
     */
    /** How the warm-up ended: {@link #WARMUP_RUNNING} while it runs, then one of the other WARMUP_ values. */
    private volatile int warmupEnd = WARMUP_OFF;
    static final int WARMUP_OFF = -1;
    static final int WARMUP_RUNNING = 0;
    static final int WARMUP_DONE = 1;
    /** Stopped at the host's first selection call: from then on it would compete with generation. */
    static final int WARMUP_HOST_STARTED = 2;
    /** Cancelled by detach or exit. */
    static final int WARMUP_CANCELLED = 3;
    static final int WARMUP_FAILED = 4;
    private volatile long warmupPlanned;
    private volatile long warmupCalls;
    private volatile long warmupNanos;
    private volatile long warmupCpuNanos;

    /** What the warm-up did (set once when it ends, and while it runs so a periodic record shows progress). */
    void warmup(long planned, long calls, long wallNanos, long cpuNanos, int end) {
        warmupEnd = end;
        warmupPlanned = planned;
        warmupCalls = calls;
        warmupNanos = wallNanos;
        warmupCpuNanos = cpuNanos;
    }

    /** Counts one timed selection call. */
    void call(long nanos) {
        nanosInside.add(nanos);
        histogram[bucket(nanos)].increment();
        if (nanos > maxSeen) {
            maxCallNanos.accumulate(nanos);
            maxSeen = maxCallNanos.get();
        }
        if (firstCallNanos < 0) {
            firstCallNanos = nanos;
        }
    }

    /** Whether a host call has been timed (the warm-up stops then). */
    boolean hostCalled() {
        return firstCallNanos >= 0;
    }

    /** Selection calls timed so far (the histogram's total). */
    long calls() {
        long n = 0;
        for (LongAdder b : histogram) {
            n += b.sum();
        }
        return n;
    }

    /** One record of {@code recordBytes} bytes (Chronicle's header included) went into the queue. */
    void wrote(long recordBytes) {
        records.increment();
        bytes.add(recordBytes);
    }

    /** A route record of {@code recordBytes} bytes was written for a selection call. */
    void recorded(long recordBytes) {
        recordedCalls.increment();
        wrote(recordBytes);
    }

    /** Recording stopped by a cap or a failure; the record that hit it was not written. The first cause wins. */
    void stopped(int cause) {
        if (stoppedBy == RUNNING) {
            stoppedBy = cause;
        }
        dropped();
    }

    /** A call that would have been recorded arrived after a cap or a failure stopped recording. */
    void dropped() {
        switch (stoppedBy) {
            case CAP -> droppedCap.increment();
            case ERROR -> droppedError.increment();
            case DISK -> droppedDisk.increment();
            default -> { } // stopped by detach or exit: not a drop
        }
    }

    int stoppedBy() {
        return stoppedBy;
    }

    /** The counters now, as a stats record. */
    StatsRecord snapshot(byte reason) {
        // read the time before the calls, so that a reader never sees more time than the calls it counts took
        long inside = nanosInside.sum();
        return new StatsRecord(reason, System.currentTimeMillis(), System.nanoTime() - startNanos, calls(),
                recordedCalls.sum(), inside, records.sum(), bytes.sum(), droppedCap.sum(), droppedDisk.sum(),
                droppedError.sum(), extra());
    }

    private Map<String, Long> extra() {
        Map<String, Long> extra = new LinkedHashMap<>();
        extra.put("first_call_nanos", firstCallNanos);
        extra.put("max_call_nanos", maxCallNanos.get());
        extra.put("warmup_planned", warmupPlanned);
        extra.put("warmup_end", (long) warmupEnd);
        extra.put("warmup_calls", warmupCalls);
        extra.put("warmup_nanos", warmupNanos);
        extra.put("warmup_cpu_nanos", warmupCpuNanos);
        for (int i = 0; i < BUCKETS; i++) {
            long n = histogram[i].sum();
            if (n > 0) {
                extra.put("hist." + i, n);
            }
        }
        return extra;
    }
}
