package io.moeagent.analyzer.source;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RecordVisitor;
import io.moeagent.format.RouteFormatException;
import io.moeagent.format.RouteQueueReader;
import io.moeagent.format.RouteRecord;
import io.moeagent.format.StepRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a route queue through {@link RouteQueueReader} and joins every route record to the most recent step
 * record with the same step id, handing out one row per token and layer. Routes whose step was never seen,
 * and pad rows (negative request id or position), are counted, not handed out.
 */
public final class QueueRoutes implements AutoCloseable {
    /** Receives joined rows in queue order. The arrays are the reader's, valid only during the call. */
    public interface RowVisitor {
        void onMeta(MetaRecord meta);

        void onRow(long requestId, int position, int layer, boolean prefill,
                   int[] ids, int offset, int k, float[] weightsOrNull);

        /** The agent's own statistics for run {@code runId} (schema 2; periodic, stopped, detach or exit). */
        default void onStats(io.moeagent.format.StatsRecord stats, long runId) {
        }
    }

    /** Steps are written just before their routes; an agent thread never has many steps in flight. */
    private static final int MAX_REMEMBERED_STEPS = 4096;

    private final RouteQueueReader reader;
    private final Map<Long, Step> steps = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Step> eldest) {
            if (size() > MAX_REMEMBERED_STEPS) {
                retire(eldest.getValue());
                return true;
            }
            return false;
        }
    };

    /** A step's rows and how many route records referred to it, to spot steps cut short. */
    private static final class Step {
        final StepRecord rows;
        int routes;

        Step(StepRecord rows) {
            this.rows = rows;
        }
    }
    private final ReadCounts counts = new ReadCounts();
    private MetaRecord meta;

    private QueueRoutes(RouteQueueReader reader) {
        this.reader = reader;
    }

    /** Opens a queue directory, translating the reader's and Chronicle's failures into one clear message. */
    public static QueueRoutes open(Path dir) {
        if (Files.isRegularFile(dir)) {
            throw new AnalyzerException(dir + " is a file, not a queue directory; pass the directory the agent wrote"
                    + " (it holds *.cq4 files), or give a routes.jsonl file without --queue");
        }
        try {
            return new QueueRoutes(RouteQueueReader.open(dir));
        } catch (RouteFormatException e) {
            throw new AnalyzerException(e.getMessage(), e);
        } catch (Exception e) {
            // Chronicle rethrows checked exceptions (e.g. StreamCorruptedException) undeclared
            throw new AnalyzerException("cannot open " + dir + " as a route queue (" + firstLine(e) + "); its *.cq4"
                    + " files are not Chronicle Queue files written by moe-agent", e);
        }
    }

    public Path directory() {
        return reader.directory();
    }

    /** The meta record, once read; null before. */
    public MetaRecord meta() {
        return meta;
    }

    /**
     * What was read so far. {@code incompleteSteps} counts remembered steps with fewer route records than
     * recorded layers: the tail of a truncated queue, or of a host that is still writing.
     */
    public ReadCounts counts() {
        counts.undecodableRecords = reader.skippedRecords();
        long incomplete = retiredIncomplete;
        for (Step s : steps.values()) {
            if (isIncomplete(s)) {
                incomplete++;
            }
        }
        counts.incompleteSteps = incomplete;
        return counts;
    }

    private long retiredIncomplete;

    private void retire(Step s) {
        if (isIncomplete(s)) {
            retiredIncomplete++;
        }
    }

    private boolean isIncomplete(Step s) {
        return meta != null && s.routes < meta.layersRecorded().length;
    }

    /**
     * Reads every record available now.
     *
     * @return the number of records read
     */
    public long readAvailable(RowVisitor visitor) {
        Visitor v = new Visitor(visitor);
        long n = 0;
        try {
            while (reader.readNext(v)) {
                n++;
            }
        } catch (RouteFormatException e) {
            throw new AnalyzerException(e.getMessage(), e);
        } catch (AnalyzerException e) {
            throw e;
        } catch (Exception e) {
            // Chronicle rethrows checked exceptions (e.g. StreamCorruptedException) undeclared
            throw new AnalyzerException("cannot read the queue in " + reader.directory() + " after " + n
                    + " records (" + firstLine(e) + "); is it a moe-agent route queue (Chronicle Queue *.cq4 files)?",
                    e);
        }
        counts.records += n;
        return n;
    }

    /**
     * Reads up to and including the meta record (the agent writes it first), so that a caller can see it
     * before any rows; fails when the queue holds none.
     */
    public MetaRecord readMeta(RowVisitor visitor) {
        Visitor v = new Visitor(visitor);
        try {
            while (meta == null && reader.readNext(v)) {
                counts.records++;
            }
        } catch (RouteFormatException e) {
            throw new AnalyzerException(e.getMessage(), e);
        } catch (AnalyzerException e) {
            throw e;
        } catch (Exception e) {
            // Chronicle rethrows checked exceptions (e.g. StreamCorruptedException) undeclared
            throw new AnalyzerException("cannot read the queue in " + reader.directory() + " (" + firstLine(e)
                    + "); is it a moe-agent route queue (Chronicle Queue *.cq4 files)?", e);
        }
        if (meta == null) {
            throw noMeta();
        }
        return meta;
    }

    private AnalyzerException noMeta() {
        return new AnalyzerException("the queue in " + reader.directory() + " holds no meta record ("
                + counts.records + " records read); it was not written by moe-agent, or its first file is missing");
    }

    /** Reads the whole queue as it is now; fails when it holds no meta record. */
    public void readAll(RowVisitor visitor) {
        readAvailable(visitor);
        if (meta == null) {
            throw noMeta();
        }
    }

    private static String firstLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    @Override
    public void close() {
        reader.close();
    }

    private final class Visitor implements RecordVisitor {
        private final RowVisitor out;

        Visitor(RowVisitor out) {
            this.out = out;
        }

        @Override
        public void onMeta(MetaRecord m, long index) {
            if (meta == null) {
                meta = m;
                out.onMeta(m);
            } else {
                counts.extraMetaRecords++;
            }
        }

        @Override
        public void onStats(io.moeagent.format.StatsRecord stats, long runId, long index) {
            out.onStats(stats, runId);
        }

        @Override
        public void onStep(StepRecord step, long index) {
            counts.stepRecords++;
            Step kept = steps.remove(step.stepId());
            if (kept != null) {
                retire(kept);
                counts.repeatedStepIds++;
            }
            steps.put(step.stepId(), new Step(step.copy()));
        }

        @Override
        public void onRoute(RouteRecord route, long index) {
            counts.routeRecords++;
            if (meta == null) {
                throw new AnalyzerException("the queue in " + reader.directory() + " has a route record (index 0x"
                        + Long.toHexString(index) + ") before any meta record; it was not written by moe-agent");
            }
            Step entry = steps.get(route.stepId());
            int tokens = route.tokens();
            if (entry == null) {
                counts.orphanRouteRecords++;
                counts.orphanRows += tokens;
                return;
            }
            entry.routes++;
            StepRecord step = entry.rows;
            int rows = Math.min(tokens, step.tokens());
            counts.orphanRows += tokens - rows;
            int k = route.k();
            int[] ids = route.expertIds();
            float[] weights = route.hasWeights() ? route.weights() : null;
            long[] requests = step.requestIds();
            int[] positions = step.positions();
            boolean prefill = step.prefill();
            int layer = route.layer();
            for (int i = 0; i < rows; i++) {
                long request = requests[i];
                int position = positions[i];
                if (request < 0 || position < 0) {
                    counts.padRows++;
                    continue;
                }
                out.onRow(request, position, layer, prefill, ids, i * k, k, weights);
            }
            counts.rows += rows;
        }
    }
}
