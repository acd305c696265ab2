package io.moeagent.format;

import java.util.Map;

/**
 * The agent's own account of one recording session, written periodically, at detach and at exit: the last one in
 * a queue for a run is its closing statistics. All times are nanoseconds; {@code elapsedNanos} runs from the start
 * of recording to the moment the record was written.
 *
 * @param reason          {@link RouteFormat#STATS_PERIODIC}, {@code STATS_EXIT}, {@code STATS_DETACH} or
 *                        {@code STATS_STOPPED} (a cap, a failure or the disk margin ended recording)
 * @param timeMillis      wall-clock time of writing (epoch milliseconds)
 * @param elapsedNanos    since recording started
 * @param calls           expert-selection calls the advice saw while recording
 * @param recordedCalls   of those, calls whose selection went into a route record (sampled, layer selected)
 * @param nanosInside     time spent inside the agent's recording path, summed over all calls and threads
 * @param records         records written (meta, step, route, stats)
 * @param bytes           bytes of those records, Chronicle's document headers included
 * @param droppedCap      records not written because max-records or max-bytes was reached
 * @param droppedDisk     records not written because the disk was below the free-space margin
 * @param droppedError    records not written because recording failed
 * @param extra           further named counters, in the writer's order
 */
public record StatsRecord(
        byte reason,
        long timeMillis,
        long elapsedNanos,
        long calls,
        long recordedCalls,
        long nanosInside,
        long records,
        long bytes,
        long droppedCap,
        long droppedDisk,
        long droppedError,
        Map<String, Long> extra) {

    public StatsRecord {
        extra = extra == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(extra));
    }

    /** Mean time inside the agent per selection call, in nanoseconds; NaN before the first call. */
    public double nanosPerCall() {
        return calls == 0 ? Double.NaN : (double) nanosInside / calls;
    }

    /** All records not written, whatever the reason. */
    public long dropped() {
        return droppedCap + droppedDisk + droppedError;
    }

    public static String reasonName(byte reason) {
        return switch (reason) {
            case RouteFormat.STATS_PERIODIC -> "periodic";
            case RouteFormat.STATS_EXIT -> "exit";
            case RouteFormat.STATS_DETACH -> "detach";
            case RouteFormat.STATS_STOPPED -> "stopped";
            default -> "unknown(" + reason + ")";
        };
    }
}
