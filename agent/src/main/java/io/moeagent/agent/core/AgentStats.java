package io.moeagent.agent.core;

import io.moeagent.format.StatsRecord;
import java.util.Map;
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

    final LongAdder calls = new LongAdder();
    final LongAdder nanosInside = new LongAdder();
    final LongAdder recordedCalls = new LongAdder();
    final LongAdder records = new LongAdder();
    final LongAdder bytes = new LongAdder();
    final LongAdder droppedCap = new LongAdder();
    final LongAdder droppedError = new LongAdder();
    private final long startNanos = System.nanoTime();
    private volatile int stoppedBy = RUNNING;

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
            default -> { } // stopped by detach or exit: not a drop
        }
    }

    int stoppedBy() {
        return stoppedBy;
    }

    /** The counters now, as a stats record. */
    StatsRecord snapshot(byte reason) {
        return new StatsRecord(reason, System.currentTimeMillis(), System.nanoTime() - startNanos, calls.sum(),
                recordedCalls.sum(), nanosInside.sum(), records.sum(), bytes.sum(), droppedCap.sum(), 0,
                droppedError.sum(), Map.of());
    }
}
