package io.moeagent.analyzer.cost;

import com.fasterxml.jackson.core.JsonGenerator;
import io.moeagent.format.StatsRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * Renders the agent's direct cost per run: calls, total and per-call time inside the agent, and that time as a
 * share of the host's generation time (when a run report gives it) and of the recording's elapsed time.
 */
public final class AgentCostReport {
    private AgentCostReport() {
    }

    /** @param generationMillis the host's generation wall time for the run, or null when unknown */
    public static void print(PrintWriter out, List<AgentCost> runs, Double generationMillis) {
        if (runs.isEmpty()) {
            return;
        }
        out.printf(Locale.ROOT, "%n== agent's own cost (stats records) ==%n");
        for (AgentCost c : runs) {
            StatsRecord s = c.last();
            out.printf(Locale.ROOT, "run %016x: %s record (%d stats records), %,d calls (%,d recorded), %.3f ms inside"
                            + " the agent, %s per call; %,d records, %,d bytes; dropped %d (cap %d, disk %d, error %d)%n",
                    c.runId(), StatsRecord.reasonName(s.reason()), c.statsRecords(), s.calls(), s.recordedCalls(),
                    s.nanosInside() / 1e6, perCall(s), s.records(), s.bytes(), s.dropped(), s.droppedCap(),
                    s.droppedDisk(), s.droppedError());
            out.printf(Locale.ROOT, "  first call %s (opens the appender, writes the meta record, cold code),"
                    + " longest %s, after the first %s per call; median call %s, 90th percentile %s%n",
                    nanos(c.firstCallNanos()), nanos(c.maxCallNanos()), nanos(c.steadyNanosPerCall()),
                    nanos(c.callQuantileNanos(0.5)), nanos(c.callQuantileNanos(0.9)));
            out.printf(Locale.ROOT, "  share of %s: %s; of the %.2f s the recording ran (JVM start-up and model"
                            + " load included): %s%n",
                    generationMillis == null ? "the host's generation time: unknown (pass --host-report RUN.json)"
                            : String.format(Locale.ROOT, "the host's generation time (%.0f ms)", generationMillis),
                    generationMillis == null ? "-" : percent(c.shareOf(generationMillis)),
                    s.elapsedNanos() / 1e9, percent(c.shareOfElapsed()));
            if (c.warmupPlanned() > 0) {
                out.printf(Locale.ROOT, "  warm-up: %,d synthetic calls in %.0f ms at start (%.0f ms CPU on its own"
                                + " thread), not counted in the direct cost%s%n", c.warmupCalls(),
                        c.warmupNanos() / 1e6, c.warmupCpuNanos() / 1e6, warmupEnd(c));
            } else if (c.warmupPlanned() == 0) {
                out.println("  warm-up: off (warmup=0)");
            }
            if (!c.closed()) {
                out.println("  no closing record: the host was killed or is still running; figures up to the last"
                        + " periodic record");
            }
        }
    }

    public static void writeJson(JsonGenerator g, List<AgentCost> runs, Double generationMillis) throws IOException {
        g.writeArrayFieldStart("agent");
        for (AgentCost c : runs) {
            StatsRecord s = c.last();
            g.writeStartObject();
            g.writeStringField("run_id", String.format(Locale.ROOT, "%016x", c.runId()));
            g.writeStringField("reason", StatsRecord.reasonName(s.reason()));
            g.writeBooleanField("closed", c.closed());
            g.writeNumberField("stats_records", c.statsRecords());
            g.writeNumberField("calls", s.calls());
            g.writeNumberField("recorded_calls", s.recordedCalls());
            g.writeNumberField("nanos_inside", s.nanosInside());
            number(g, "nanos_per_call", s.nanosPerCall());
            g.writeNumberField("first_call_nanos", c.firstCallNanos());
            g.writeNumberField("max_call_nanos", c.maxCallNanos());
            number(g, "steady_nanos_per_call", c.steadyNanosPerCall());
            number(g, "median_call_nanos", c.callQuantileNanos(0.5));
            number(g, "p90_call_nanos", c.callQuantileNanos(0.9));
            g.writeNumberField("warmup_planned", c.warmupPlanned());
            g.writeStringField("warmup_end", warmupEndName(c.warmupEnd()));
            g.writeNumberField("warmup_calls", c.warmupCalls());
            g.writeNumberField("warmup_nanos", c.warmupNanos());
            g.writeNumberField("warmup_cpu_nanos", c.warmupCpuNanos());
            g.writeNumberField("records", s.records());
            g.writeNumberField("bytes", s.bytes());
            g.writeNumberField("dropped_cap", s.droppedCap());
            g.writeNumberField("dropped_disk", s.droppedDisk());
            g.writeNumberField("dropped_error", s.droppedError());
            g.writeNumberField("elapsed_nanos", s.elapsedNanos());
            number(g, "share_of_elapsed", c.shareOfElapsed());
            if (generationMillis != null) {
                g.writeNumberField("generation_ms", generationMillis);
                number(g, "share_of_generation", c.shareOf(generationMillis));
            }
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static String warmupEnd(AgentCost c) {
        return switch ((int) c.warmupEnd()) {
            case 0 -> "; still running at this record";
            case 1 -> "";
            case 2 -> String.format(Locale.ROOT, "; ended at the host's first selection call (warmup=%d)",
                    c.warmupPlanned());
            case 3 -> String.format(Locale.ROOT, "; cut short by exit or detach (warmup=%d)", c.warmupPlanned());
            case 4 -> "; failed (the host's stderr says why)";
            default -> "";
        };
    }

    static String warmupEndName(long end) {
        return switch ((int) end) {
            case 0 -> "running";
            case 1 -> "done";
            case 2 -> "host-started";
            case 3 -> "cancelled";
            case 4 -> "failed";
            default -> "off";
        };
    }

    static String perCall(StatsRecord s) {
        return nanos(s.nanosPerCall());
    }

    static String nanos(double ns) {
        if (ns < 0 || Double.isNaN(ns)) {
            return "-";
        }
        if (Double.isNaN(ns)) {
            return "-";
        }
        return ns >= 10_000 ? String.format(Locale.ROOT, "%.1f us", ns / 1000) : String.format(Locale.ROOT, "%.0f ns", ns);
    }

    static String percent(double share) {
        return Double.isNaN(share) ? "-" : String.format(Locale.ROOT, "%.4f %%", 100 * share);
    }

    private static void number(JsonGenerator g, String name, double v) throws IOException {
        g.writeFieldName(name);
        if (Double.isFinite(v)) {
            g.writeNumber(v);
        } else {
            g.writeNull();
        }
    }
}
