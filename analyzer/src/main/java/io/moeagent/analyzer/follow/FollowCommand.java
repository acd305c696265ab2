package io.moeagent.analyzer.follow;

import io.moeagent.analyzer.DurationConverter;
import io.moeagent.analyzer.ExitCodes;
import io.moeagent.analyzer.source.QueueRoutes;
import io.moeagent.analyzer.stats.ExpertStats;
import io.moeagent.analyzer.stats.RoutingTally;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteQueueReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "follow", mixinStandardHelpOptions = true,
        description = {"Follows a queue while the host writes it: every interval, the rows (token x layer) so far,"
                + " rows/s and records/s in the last interval, the entropy of all selections so far and the top"
                + " experts.",
                "A queue directory that does not exist yet is waited for (with a message).",
                "Ends after --duration, or on Ctrl-C, with a final summary line."})
public final class FollowCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--run", paramLabel = "RUNID",
            description = "Only this run (16 hex digits, as export's run_id); default: every run, pooled.")
    String run;

    private long runId;

    @Option(names = "--queue", required = true, paramLabel = "DIR", description = "The agent's queue directory.")
    Path queue;

    @Option(names = "--interval", defaultValue = "1s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Time between reports (default: ${DEFAULT-VALUE}).")
    Duration interval;

    @Option(names = "--duration", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Stop after this long (default: until Ctrl-C).")
    Duration duration;

    private volatile boolean stopRequested;

    @Override
    public Integer call() throws InterruptedException {
        if (interval.toMillis() < 10) {
            throw new io.moeagent.analyzer.AnalyzerException("--interval " + interval.toMillis()
                    + "ms is too short; use 10ms or more");
        }
        if (run != null) {
            try {
                runId = io.moeagent.format.RouteFormat.parseRunId(run);
            } catch (NumberFormatException e) {
                throw new io.moeagent.analyzer.AnalyzerException("--run " + run + ": " + e.getMessage());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        long start = System.nanoTime();
        long deadline = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopRequested = true;
            try {
                finished.await(2, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "follow-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            if (!waitForQueue(out, deadline)) {
                out.println("follow: no queue appeared in " + queue + " before the end");
                out.flush();
                return ExitCodes.OK;
            }
            try (QueueRoutes routes = QueueRoutes.open(queue)) {
                if (run != null) {
                    routes.selectRun(runId);
                }
                follow(routes, out, start, deadline);
            }
            return ExitCodes.OK;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and waits for the latch released above
            }
        }
    }

    /**
     * A queue file exists and none is still empty: Chronicle creates a cycle file and sizes it a moment later, and
     * a reader opening it in between would take it for a file cut short.
     */
    private boolean queueReady() {
        if (!(Files.isDirectory(queue) && RouteQueueReader.hasQueueFiles(queue))) {
            return false;
        }
        try (java.util.stream.Stream<java.nio.file.Path> files = Files.list(queue)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".cq4")).allMatch(p -> {
                try {
                    return Files.size(p) > 0;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private boolean waitForQueue(PrintWriter out, long deadline) throws InterruptedException {
        boolean told = false;
        while (!queueReady()) {
            if (!told) {
                out.println("follow: waiting for a queue in " + queue + " (start the host with the agent; Ctrl-C to"
                        + " stop)");
                out.flush();
                told = true;
            }
            if (stopRequested || System.nanoTime() >= deadline) {
                return false;
            }
            sleepUntil(Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100)));
        }
        if (told) {
            out.println("follow: queue found in " + queue);
        }
        return true;
    }

    private void follow(QueueRoutes routes, PrintWriter out, long start, long deadline) throws InterruptedException {
        Tally tally = new Tally();
        // rates count from when the queue appeared, not from a wait for it
        long lastTime = System.nanoTime();
        long next = lastTime + interval.toNanos();
        long lastRows = 0;
        long lastRecords = 0;
        while (true) {
            routes.readAvailable(tally);
            long now = System.nanoTime();
            boolean end = stopRequested || now >= deadline;
            if (now >= next || end) {
                long records = routes.counts().records;
                double seconds = (now - lastTime) / 1e9;
                out.println(line(tally, (now - start) / 1e9, tally.rows - lastRows, records - lastRecords, seconds));
                out.flush();
                lastRows = tally.rows;
                lastRecords = records;
                lastTime = now;
                next += interval.toNanos() * Math.max(1, (now - next) / interval.toNanos() + 1);
            }
            if (end) {
                break;
            }
            // poll often enough to keep up, but without spinning a core the host needs
            sleepUntil(Math.min(Math.min(next, deadline), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20)));
        }
        String skipped = routes.counts().skippedSummary();
        out.printf(Locale.ROOT, "follow: done: %,d rows in %,d records%s%n", tally.rows, routes.counts().records,
                skipped == null ? "" : "; " + skipped);
        out.flush();
    }

    private String line(Tally t, double elapsed, long rows, long records, double seconds) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "[%7.1fs] rows %,d (+%,d) %,.0f rows/s %,.0f records/s", elapsed, t.rows,
                rows, rows / seconds, records / seconds));
        if (t.tally != null && t.rows > 0) {
            ExpertStats s = ExpertStats.of(t.tally.overall(), 3, 0);
            sb.append(String.format(Locale.ROOT, " | H %.3f of %.3f bits (%.3f) | top", s.entropyBits(),
                    s.maxEntropyBits(), s.normalizedEntropy()));
            for (ExpertStats.Ranked r : s.topExperts()) {
                sb.append(String.format(Locale.ROOT, " %d:%.1f%%", r.expert(), 100 * r.share()));
            }
        } else if (t.tally == null) {
            sb.append(" | no meta record yet");
        }
        return sb.toString();
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    private static final class Tally implements QueueRoutes.RowVisitor {
        RoutingTally tally;
        long rows;

        @Override
        public void onMeta(MetaRecord meta) {
            // a second run appended to the queue is pooled with the first (select one with --run)
            if (tally == null || tally.experts() != Math.max(1, meta.numExperts())) {
                tally = new RoutingTally(Math.max(1, meta.numExperts()));
            }
        }

        @Override
        public void onRow(long requestId, int position, int layer, boolean prefill,
                          int[] ids, int offset, int k, float[] weights) {
            rows++;
            tally.add(layer, prefill ? RoutingTally.Phase.PREFILL : RoutingTally.Phase.DECODE, ids, offset, k, weights);
        }
    }
}
