package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteSink;

/**
 * Wraps the recorder and times every selection call with {@link System#nanoTime()}: the direct cost of recording,
 * measured where it is spent, immune to the scheduling noise of whole-run comparisons. Cheap enough to stay on
 * (two clock reads and two uncontended adds; see MeasuredSinkBench). {@code spinNanos} is the test-only injected cost
 * ({@code test.spin-nanos}, 0 = off, the default): a busy wait inside the timed region.
 */
final class MeasuredSink implements RouteSink {
    private final RouteSink inner;
    private final AgentStats stats;
    private final long spinNanos;

    MeasuredSink(RouteSink inner, AgentStats stats, long spinNanos) {
        this.inner = inner;
        this.stats = stats;
        this.spinNanos = spinNanos;
    }

    @Override
    public void onSelection(Object self, Object argument, Object result) {
        long start = System.nanoTime();
        try {
            inner.onSelection(self, argument, result);
            if (spinNanos > 0) {
                spin();
            }
        } finally {
            stats.call(System.nanoTime() - start);
        }
    }

    /** Scope advice (engines with request/step/layer scopes): its time counts as time inside, not as a call. */
    @Override
    public Object enterScope(int scope, Object self, Object[] arguments) {
        long start = System.nanoTime();
        try {
            return inner.enterScope(scope, self, arguments);
        } finally {
            stats.nanosInside.add(System.nanoTime() - start);
        }
    }

    @Override
    public void exitScope(int scope, Object token) {
        long start = System.nanoTime();
        try {
            inner.exitScope(scope, token);
        } finally {
            stats.nanosInside.add(System.nanoTime() - start);
        }
    }

    /**
     * Busy-waits with {@code Thread.onSpinWait()} (PAUSE). A loop polling only the clock was measured against it
     * (issue 11, 2-core KVM guest, 6 paired rounds of 1 ms x 256 calls): the same excess, +425 ms process CPU and
     * +266 vs +284 ms generating-thread CPU per run for 256 ms injected; so PAUSE (pause-loop exits) is not why the
     * process-CPU comparison over-recovers the injected cost, and this one is kept.
     */
    private void spin() {
        long until = System.nanoTime() + spinNanos;
        while (System.nanoTime() - until < 0) {
            Thread.onSpinWait();
        }
    }
}
