package io.moeagent.analyzer.source;

import io.moeagent.analyzer.AnalyzerException;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RecordVisitor;
import io.moeagent.format.RouteFormat;
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
 * record with the same (run id, step id) ({@link RouteFormat#joinKey}), handing out one row per token and layer.
 * Routes whose step was never seen, pad rows (a negative request id in the engine's own step context) and rows whose
 * request or position is unknown (negative, recorded without a step context or scopes) are counted, each with its
 * reason, not handed out. A queue may hold several runs (recording sessions appended to one directory): each run's
 * meta record is handed out when it arrives; {@link #selectRun} keeps one run and passes over every record of the
 * others.
 */
public final class QueueRoutes implements AutoCloseable {
    /**
     * Receives joined rows in queue order: {@code onMeta} once per run, when its meta record arrives, then rows.
     * Implement {@link #onRow(RouteRow)} for everything a row carries, or the narrower {@code onRow} it calls by
     * default. The arrays are the reader's, valid only during the call.
     */
    public interface RowVisitor {
        void onMeta(MetaRecord meta);

        default void onRow(long requestId, int position, int layer, boolean prefill,
                           int[] ids, int offset, int k, float[] weightsOrNull) {
        }

        default void onRow(RouteRow row) {
            onRow(row.requestId, row.position, row.layer, row.prefill(), row.ids, row.offset, row.k, row.weights);
        }

        /** A route record joined to its step begins: its rows follow (rows of one record come between the two). */
        default void onRouteStart(StepRecord step, RouteRecord route) {
        }

        /** The rows of the route record begun last have all been handed out. */
        default void onRouteEnd() {
        }

        /** The agent's own statistics for run {@code runId} (schema 2; periodic, stopped, detach or exit). */
        default void onStats(io.moeagent.format.StatsRecord stats, long runId) {
        }
    }

    /** One run found in a queue: its meta record, and whether any of its routes keeps the engine's expert order. */
    public record Run(long runId, MetaRecord meta, boolean engineOrder) {
        public String idText() {
            return RouteFormat.runIdText(runId);
        }
    }

    /** Steps are written just before their routes; an agent thread never has many steps in flight. */
    private static final int MAX_REMEMBERED_STEPS = 4096;

    private final RouteQueueReader reader;
    private final Map<RouteFormat.StepKey, Step> steps = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<RouteFormat.StepKey, Step> eldest) {
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
    /** Each run's meta record, by run id, in queue order. */
    private final Map<Long, MetaRecord> metas = new LinkedHashMap<>();
    /** Runs recorded without the engine's step context: a negative request id there is unknown, not padding. */
    private final java.util.Set<Long> runsWithoutStepContext = new java.util.HashSet<>();
    private Long selectedRun;
    private final RouteRow row = new RouteRow();

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

    /** The first run's meta record (of the selected run, with {@link #selectRun}), once read; null before. */
    public MetaRecord meta() {
        return meta;
    }

    /** How many runs' meta records were read so far (of the selected run only, with {@link #selectRun}). */
    public int runs() {
        return metas.size();
    }

    /** Keeps only run {@code runId}: every record of another run is passed over, neither handed out nor counted. */
    public QueueRoutes selectRun(long runId) {
        this.selectedRun = runId;
        return this;
    }

    /**
     * Reads the whole queue once, quickly, to list its runs in queue order (decoding no rows): what {@code export}
     * must know before it writes its meta line. Fails when the queue holds no meta record.
     */
    public static java.util.List<Run> scanRuns(Path dir) {
        Map<Long, MetaRecord> found = new LinkedHashMap<>();
        java.util.Set<Long> engineOrder = new java.util.HashSet<>();
        try (QueueRoutes q = open(dir)) {
            RecordVisitor v = new RecordVisitor() {
                @Override
                public void onMeta(MetaRecord m, long index) {
                    found.putIfAbsent(m.runId(), m);
                }

                @Override
                public void onRoute(RouteRecord route, long index) {
                    if (route.engineOrder()) {
                        engineOrder.add(route.runId());
                    }
                }
            };
            q.drain(v);
        }
        if (found.isEmpty()) {
            throw new AnalyzerException("the queue in " + dir + " holds no meta record; it was not written by moe-agent,"
                    + " or its first file is missing");
        }
        java.util.List<Run> runs = new java.util.ArrayList<>();
        found.forEach((id, m) -> runs.add(new Run(id, m, engineOrder.contains(id))));
        return runs;
    }

    /** The run of {@code runs} that {@code --run TEXT} names; fails naming the runs there are. */
    public static Run pickRun(java.util.List<Run> runs, String text, Path dir) {
        long id;
        try {
            id = RouteFormat.parseRunId(text);
        } catch (NumberFormatException e) {
            throw new AnalyzerException("--run " + text + ": " + e.getMessage() + runList(runs));
        }
        for (Run r : runs) {
            if (r.runId() == id) {
                return r;
            }
        }
        throw new AnalyzerException("--run " + text + ": no such run in " + dir + runList(runs));
    }

    private static String runList(java.util.List<Run> runs) {
        StringBuilder sb = new StringBuilder("; the queue holds ").append(runs.size()).append(runs.size() == 1
                ? " run: " : " runs: ");
        for (int i = 0; i < runs.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(runs.get(i).idText());
        }
        return sb.toString();
    }

    private void drain(RecordVisitor v) {
        try {
            while (reader.readNext(v)) {
                counts.records++;
            }
        } catch (Exception e) {
            throw readFailure(e, "");
        }
    }

    /**
     * What was read so far. {@code incompleteSteps} counts remembered steps with fewer route records than
     * recorded layers: the tail of a truncated queue, or of a host that is still writing.
     */
    public ReadCounts counts() {
        counts.undecodableRecords = reader.skippedRecords();
        counts.corruptRecords = reader.corruptRecords();
        counts.cutFiles.clear();
        counts.cutFiles.addAll(reader.cutFiles());
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
        MetaRecord m = metas.get(s.rows.runId());
        return m != null && s.routes < m.layersRecorded().length;
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
        } catch (Exception e) {
            throw readFailure(e, " after " + n + " records");
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
        } catch (Exception e) {
            throw readFailure(e, "");
        }
        if (meta == null) {
            throw noMeta();
        }
        return meta;
    }

    /** A failure inside the queue reader as one line; {@code after} says how far it got ("" or " after N records"). */
    private AnalyzerException readFailure(Exception e, String after) {
        if (e instanceof RouteFormatException) {
            return new AnalyzerException(e.getMessage(), e);
        }
        if (e instanceof AnalyzerException a) {
            return a; // the visitor's own failure (e.g. an export's full disk), already one line
        }
        // Chronicle rethrows checked exceptions (e.g. StreamCorruptedException) undeclared
        return new AnalyzerException("cannot read the queue in " + reader.directory() + after + " (" + firstLine(e)
                + "); is it a moe-agent route queue (Chronicle Queue *.cq4 files)?", e);
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
            if (selectedRun != null && m.runId() != selectedRun) {
                return;
            }
            if (metas.containsKey(m.runId())) {
                counts.extraMetaRecords++;
                return;
            }
            metas.put(m.runId(), m);
            if (("," + m.configuration() + ",").contains(",pointcut.step=none,")) {
                runsWithoutStepContext.add(m.runId());
            }
            if (meta == null) {
                meta = m;
            }
            out.onMeta(m);
        }

        @Override
        public void onStats(io.moeagent.format.StatsRecord stats, long runId, long index) {
            out.onStats(stats, runId);
        }

        @Override
        public void onStep(StepRecord step, long index) {
            if (selectedRun != null && step.runId() != selectedRun) {
                return;
            }
            counts.stepRecords++;
            RouteFormat.StepKey key = RouteFormat.joinKey(step.runId(), step.stepId());
            Step kept = steps.remove(key);
            if (kept != null) {
                retire(kept);
                counts.repeatedStepIds++;
            }
            steps.put(key, new Step(step.copy()));
        }

        @Override
        public void onRoute(RouteRecord route, long index) {
            if (selectedRun != null && route.runId() != selectedRun) {
                return;
            }
            counts.routeRecords++;
            if (meta == null) {
                throw new AnalyzerException("the queue in " + reader.directory() + " has a route record (index 0x"
                        + Long.toHexString(index) + ") before any meta record; it was not written by moe-agent");
            }
            if (!metas.containsKey(route.runId())) {
                // its run's meta record was lost (damaged, or in a file that is gone): rows of unknown shape
                counts.routesWithoutMeta++;
                counts.orphanRows += route.tokens();
                return;
            }
            Step entry = steps.get(RouteFormat.joinKey(route.runId(), route.stepId()));
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
            out.onRouteStart(step, route);
            RouteRow r = row;
            r.runId = route.runId();
            r.layer = route.layer();
            r.ids = ids;
            r.k = k;
            r.weights = weights;
            r.engineOrder = route.engineOrder();
            r.hasTokenId = step.hasTokenIds();
            r.stepId = route.stepId();
            boolean engineMarksPadding = !runsWithoutStepContext.contains(route.runId());
            for (int i = 0; i < rows; i++) {
                long request = requests[i];
                int position = positions[i];
                if (request < 0 && engineMarksPadding) {
                    counts.padRows++;
                    continue;
                }
                if (request < 0 || position < 0) {
                    counts.unknownRows++;
                    continue;
                }
                r.requestId = request;
                r.position = position;
                r.phase = step.rowPrefill(i) ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE;
                r.tokenId = r.hasTokenId ? step.tokenId(i) : 0;
                r.offset = i * k;
                out.onRow(r);
            }
            out.onRouteEnd();
            counts.rows += rows;
        }
    }
}
