package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteSink;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;

/**
 * Writes the session's {@link AgentStats} into the queue as stats records from a daemon thread of its own (with
 * its own appender and writer): every {@link #INTERVAL_MILLIS} while the counters change (so a host killed with
 * kill -9 still leaves a recent one), once when a cap or a failure stops recording, and a closing one at detach
 * or exit. Stats records are not counted against max-records/max-bytes. A failure here costs one stderr line and
 * ends only the statistics.
 */
final class StatsReporter {
    static final long INTERVAL_MILLIS = 1000;
    private static final long CLOSE_WAIT_MILLIS = 2000;

    private final ChronicleQueue queue;
    private final long runId;
    private final AgentStats stats;
    private final MeasuredSink sink;
    private final Thread thread;
    private volatile byte closing = -1;
    private volatile boolean closed;

    private StatsReporter(ChronicleQueue queue, long runId, AgentStats stats, RouteSink recorder, long spinNanos) {
        this.queue = queue;
        this.runId = runId;
        this.stats = stats;
        this.sink = new MeasuredSink(recorder, stats, spinNanos);
        this.thread = new Thread(this::run, "moe-agent-stats");
        thread.setDaemon(true);
    }

    /** Starts reporting on a new daemon thread; {@link #sink()} is what the bridge should call. */
    static StatsReporter start(ChronicleQueue queue, long runId, AgentStats stats, RouteSink recorder,
                               long spinNanos) {
        StatsReporter r = new StatsReporter(queue, runId, stats, recorder, spinNanos);
        r.thread.start();
        return r;
    }

    /** The recorder, timed. */
    RouteSink sink() {
        return sink;
    }

    /**
     * Writes the closing record ({@link RouteFormat#STATS_DETACH} or {@code STATS_EXIT}) and ends the thread;
     * waits at most two seconds. Call after the bridge no longer reaches the sink and before the queue closes.
     */
    void close(byte reason) {
        if (closed) {
            return;
        }
        closed = true;
        closing = reason;
        LockSupport.unpark(thread);
        try {
            thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        ExcerptAppender appender = null;
        try {
            appender = queue.createAppender();
            RouteRecordWriter writer = new RouteRecordWriter(appender);
            long lastCalls = -1;
            boolean stopReported = false;
            long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(INTERVAL_MILLIS);
            while (true) {
                long wait = next - System.nanoTime();
                if (closing < 0 && wait > 0) {
                    LockSupport.parkNanos(this, wait);
                    continue;
                }
                if (closing >= 0) {
                    write(writer, closing);
                    return;
                }
                next += TimeUnit.MILLISECONDS.toNanos(INTERVAL_MILLIS);
                if (!stopReported && stats.stoppedBy() != AgentStats.RUNNING) {
                    stopReported = true;
                    write(writer, RouteFormat.STATS_STOPPED);
                    lastCalls = stats.calls();
                    continue;
                }
                long calls = stats.calls();
                if (calls != lastCalls) {
                    write(writer, RouteFormat.STATS_PERIODIC);
                    lastCalls = calls;
                }
            }
        } catch (Throwable t) {
            System.err.println("moe-agent: writing the statistics record failed (" + t.getClass().getSimpleName()
                    + (t.getMessage() == null ? "" : ": " + t.getMessage()) + "); recording continues without it");
        } finally {
            if (appender != null) {
                try {
                    appender.close();
                } catch (Throwable ignored) {
                    // the queue may already be closing
                }
            }
        }
    }

    private void write(RouteRecordWriter writer, byte reason) {
        stats.wrote(writer.writeStats(runId, stats.snapshot(reason)));
    }
}
