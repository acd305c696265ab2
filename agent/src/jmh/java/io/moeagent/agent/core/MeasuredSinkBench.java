package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteSink;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What the agent's own accounting costs per selection call, isolated from the recorder (whose Chronicle writes
 * and page faults would bury a few nanoseconds in their spread): a sink that does nothing, called directly
 * ({@code bare}) and through {@link MeasuredSink} ({@code measured}: two clock reads, the time adder and
 * the histogram bucket). The difference is what leaving the accounting on costs; {@code twoClockReads} shows how
 * much of it is {@link System#nanoTime()} itself.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(2)
public class MeasuredSinkBench {
    /** Consumes its arguments so the call cannot be optimised away. */
    static final class Noop implements RouteSink {
        Blackhole bh;

        @Override
        public void onSelection(Object self, Object argument, Object result) {
            bh.consume(result);
        }

        @Override
        public Object enterScope(int scope, Object self, Object[] arguments) {
            return null;
        }

        @Override
        public void exitScope(int scope, Object token) {
        }
    }

    private Noop noop;
    private RouteSink measured;
    private final Object result = new Object();

    @Setup
    public void setUp(Blackhole bh) {
        noop = new Noop();
        noop.bh = bh;
        measured = new MeasuredSink(noop, new AgentStats(), 0);
    }

    @Benchmark
    public void bare() {
        noop.onSelection(null, null, result);
    }

    /** The two clock reads alone, which dominate {@link #measured} on a virtual machine. */
    @Benchmark
    public long twoClockReads() {
        long start = System.nanoTime();
        return System.nanoTime() - start;
    }

    @Benchmark
    public void measured() {
        measured.onSelection(null, null, result);
    }
}
