package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteSink;
import io.moeagent.config.AgentConfig;
import io.moeagent.config.LayerSelection;
import io.moeagent.config.Pointcuts;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.RouteFormat;
import io.moeagent.format.RouteRecordWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;

/**
 * Turns selection-method exits into records: the meta record once (lazily, at the first recorded call), a step
 * record whenever a thread's step id changes, then one route record per recorded layer. One appender per thread;
 * arrays go to Chronicle as bulk copies straight from the host's objects, so after warm-up nothing is allocated.
 * Any failure stops recording with one stderr line; the host never sees an exception.
 */
final class RouteRecorder implements RouteSink {
    private static final int HEADER = RouteFormat.DOCUMENT_HEADER;
    private static final Set<String> META_KEYS = Set.of("model_id", "engine", "engine_version", "torch_version",
            "device", "dtype", "seed", "num_layers", "num_experts", "top_k", "moe_layers");

    private final ChronicleQueue queue;
    private final AgentConfig config;
    private final LayerSelection layers;
    private final int sampleEvery;
    private final long maxRecords;
    private final long maxBytes;
    private final String agentVersion;

    private final ValueReader layer;
    private final ValueReader ids;
    private final ValueReader weights;
    private final ValueReader tokens;
    private final ValueReader k;
    private final ValueReader step;
    private final FieldChain stepId;
    private final FieldChain stepPrefill;
    private final FieldChain stepTokens;
    private final FieldChain requestIds;
    private final FieldChain positions;
    /** Optional step fields; a default one that the engine's step class lacks is switched off (volatile: once). */
    private volatile FieldChain tokenIds;
    private volatile FieldChain rowPhases;
    private final FieldChain runInfo;
    /** This recording session's id, carried by every record (schema 2). */
    private final long runId;

    private volatile boolean recording = true;
    private volatile boolean metaWritten;
    private final Object metaLock = new Object();
    private final AtomicLong records = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    /**
     * Step ids in the queue are the agent's own, unique per queue: two engines (or threads) in one JVM may use the
     * same step ids, and a reader joins routes to steps by id. The engine's ids only mark where a step begins.
     */
    private final AtomicLong queueStepIds = new AtomicLong();
    private final AtomicBoolean failed = new AtomicBoolean();
    private final List<RouteRecordWriter> writers = new ArrayList<>();
    private final ThreadLocal<ThreadState> threads = ThreadLocal.withInitial(ThreadState::new);
    /** The session's own account (calls, time inside, records, bytes, drops), written by StatsReporter. */
    final AgentStats stats = new AgentStats();

    /** Per host thread: its appender, its current step and scratch arrays for conversions. */
    private static final class ThreadState {
        RouteRecordWriter writer;
        boolean hasStep;
        long stepId;
        long queueStepId;
        boolean sampled;
        boolean stepWritten;
        int lastLayer;
        long localSteps;
        long[] longScratch = new long[0];
        int[] intScratch = new int[0];
    }

    RouteRecorder(AgentConfig config, ChronicleQueue queue, String agentVersion) {
        this.queue = queue;
        this.config = config;
        this.layers = config.layers();
        this.sampleEvery = config.sampleEvery();
        this.maxRecords = config.maxRecords();
        this.maxBytes = config.maxBytes();
        this.agentVersion = agentVersion;
        Pointcuts p = config.pointcuts();
        this.layer = new ValueReader("pointcut.layer", p.layer());
        this.ids = new ValueReader("pointcut.ids", p.ids());
        this.weights = p.weights() == null || !config.recordWeights() ? null
                : new ValueReader("pointcut.weights", p.weights());
        this.tokens = p.tokens() == null ? null : new ValueReader("pointcut.tokens", p.tokens());
        this.k = new ValueReader("pointcut.k", p.k());
        this.step = p.step() == null ? null : new ValueReader("pointcut.step", p.step());
        this.stepId = chain(p.stepId(), "pointcut.step-id");
        this.stepPrefill = chain(p.stepPrefill(), "pointcut.step-prefill");
        this.stepTokens = chain(p.stepTokens(), "pointcut.step-tokens");
        this.requestIds = chain(p.stepRequestIds(), "pointcut.step-request-ids");
        this.positions = chain(p.stepPositions(), "pointcut.step-positions");
        this.tokenIds = chain(p.stepTokenIds(), "pointcut.step-token-ids");
        this.rowPhases = chain(p.stepPhases(), "pointcut.step-phases");
        this.runId = newRunId();
        this.runInfo = chain(p.stepRunInfo(), "pointcut.run-info");
    }

    /** A random, non-zero 64-bit id (0 is schema 1's "no run id"). */
    private static long newRunId() {
        long id;
        do {
            id = new java.security.SecureRandom().nextLong();
        } while (id == 0);
        return id;
    }

    long runId() {
        return runId;
    }

    private static FieldChain chain(String path, String key) {
        return path == null ? null : FieldChain.parse(path, key + "=" + path);
    }

    @Override
    public void onSelection(Object self, Object argument, Object result) {
        if (!recording) {
            stats.dropped();
            return;
        }
        try {
            record(self, argument, result);
        } catch (Throwable t) {
            fail("recording failed", t);
        }
    }

    private void record(Object self, Object argument, Object result) throws Throwable {
        ThreadState ts = threads.get();
        int layerIndex = layer.getInt(self, argument, result);
        Object stepObject = null;
        if (step != null) {
            stepObject = step.get(self, argument, result);
            long id = stepId.getLong(stepObject);
            if (!ts.hasStep || id != ts.stepId) {
                beginStep(ts, id, queueStepIds.getAndIncrement(), Math.floorMod(id, (long) sampleEvery) == 0);
            }
        } else if (!ts.hasStep || layerIndex <= ts.lastLayer) {
            // no step context: a call whose layer does not follow the previous one starts the next forward step
            long id = queueStepIds.getAndIncrement();
            beginStep(ts, id, id, ts.localSteps++ % sampleEvery == 0);
        }
        ts.lastLayer = layerIndex;
        if (!ts.sampled || !layers.includes(layerIndex)) {
            return;
        }
        int topK = k.getInt(self, argument, result);
        int[] expertIds = (int[]) ids.get(self, argument, result);
        int rows = tokens != null ? tokens.getInt(self, argument, result) : expertIds.length / Math.max(topK, 1);
        float[] w = weights == null ? null : (float[]) weights.get(self, argument, result);
        if (topK < 1 || topK > RouteFormat.MAX_TOP_K || rows < 0 || expertIds.length < rows * topK
                || (w != null && w.length < rows * topK)) {
            fail("layer " + layerIndex + " returned an unusable selection ("
                    + RouteRecordWriter.checkRoute(rows, topK, expertIds, w) + "); check the pointcut.* options", null);
            return;
        }
        RouteRecordWriter writer = ts.writer;
        if (writer == null) {
            writer = newWriter(ts);
        }
        if (!metaWritten) {
            writeMeta(writer, stepObject);
        }
        if (!ts.stepWritten) {
            if (!writeStep(ts, writer, stepObject, rows)) {
                return;
            }
            ts.stepWritten = true;
        }
        if (!reserve(HEADER + RouteFormat.routeRecordBytes(rows, topK, w != null))) {
            return;
        }
        stats.recorded(writer.writeRoute(runId, ts.queueStepId, layerIndex, rows, topK, expertIds, w, false));
    }

    private static void beginStep(ThreadState ts, long engineStepId, long queueStepId, boolean sampled) {
        ts.hasStep = true;
        ts.stepId = engineStepId;
        ts.queueStepId = queueStepId;
        ts.sampled = sampled;
        ts.stepWritten = false;
        ts.lastLayer = Integer.MIN_VALUE;
    }

    private RouteRecordWriter newWriter(ThreadState ts) {
        RouteRecordWriter w = new RouteRecordWriter(queue.createAppender());
        synchronized (writers) {
            writers.add(w);
        }
        ts.writer = w;
        return w;
    }

    private boolean writeStep(ThreadState ts, RouteRecordWriter writer, Object stepObject, int routeRows)
            throws Throwable {
        long[] reqs;
        int[] pos;
        int[] toks = null;
        byte[] phases = null;
        int rows;
        boolean prefill;
        if (stepObject == null) {
            // no step context: rows are known, their requests and positions are not (-1)
            rows = routeRows;
            reqs = longScratch(ts, rows);
            pos = intScratch(ts, rows);
            Arrays.fill(reqs, 0, rows, -1L);
            Arrays.fill(pos, 0, rows, -1);
            prefill = rows > 1;
        } else {
            rows = stepTokens != null ? stepTokens.getInt(stepObject) : routeRows;
            reqs = asLongs(ts, requestIds.get(stepObject), rows);
            pos = asInts(ts, positions.get(stepObject), rows);
            prefill = stepPrefill != null ? stepPrefill.getBoolean(stepObject) : rows > 1;
            toks = optionalInts(stepObject, rows);
            phases = optionalPhases(stepObject, rows);
        }
        byte phase = prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE;
        if (phases != null) {
            phase = phases[0];
            for (int i = 1; i < rows; i++) {
                if (phases[i] != phase) {
                    phase = RouteFormat.PHASE_MIXED;
                    break;
                }
            }
        }
        if (!reserve(HEADER + RouteFormat.stepRecordBytes(rows, toks != null, phases != null))) {
            return false;
        }
        stats.wrote(writer.writeStep(runId, ts.queueStepId, phase, rows, reqs, pos, toks, phases));
        return true;
    }

    /** The step's per-row token ids, or null when the engine has none. */
    private int[] optionalInts(Object stepObject, int rows) throws Throwable {
        FieldChain c = tokenIds;
        if (c == null) {
            return null;
        }
        Object v = optional(c, stepObject);
        if (v == null) {
            tokenIds = null;
            return null;
        }
        if (v instanceof int[] a && a.length >= rows) {
            return a;
        }
        throw new IllegalStateException("pointcut.step-token-ids is not an int[] of at least " + rows + " entries");
    }

    /** The step's per-row phases, or null when the engine has none. */
    private byte[] optionalPhases(Object stepObject, int rows) throws Throwable {
        FieldChain c = rowPhases;
        if (c == null) {
            return null;
        }
        Object v = optional(c, stepObject);
        if (v == null) {
            rowPhases = null;
            return null;
        }
        if (v instanceof byte[] a && a.length >= rows && rows > 0) {
            for (int i = 0; i < rows; i++) {
                if (a[i] != RouteFormat.PHASE_PREFILL && a[i] != RouteFormat.PHASE_DECODE) {
                    throw new IllegalStateException("pointcut.step-phases holds " + a[i] + " at row " + i
                            + "; expected 0 (prefill) or 1 (decode)");
                }
            }
            return a;
        }
        if (rows == 0) {
            return null;
        }
        throw new IllegalStateException("pointcut.step-phases is not a byte[] of at least " + rows + " entries");
    }

    /**
     * Reads an optional step field; null when the step class has no such field (then it is not asked again). An
     * engine whose step object lacks the field simply records without it.
     */
    private static Object optional(FieldChain c, Object stepObject) throws Throwable {
        try {
            return c.get(stepObject);
        } catch (NoSuchFieldException e) {
            return null;
        }
    }

    private static long[] asLongs(ThreadState ts, Object value, int rows) {
        if (value instanceof long[] l && l.length >= rows) {
            return l;
        }
        long[] out = longScratch(ts, rows);
        if (value instanceof int[] a && a.length >= rows) {
            for (int i = 0; i < rows; i++) {
                out[i] = a[i];
            }
            return out;
        }
        throw new IllegalStateException("pointcut.step-request-ids is not a long[] or int[] of at least " + rows
                + " entries");
    }

    private static int[] asInts(ThreadState ts, Object value, int rows) {
        if (value instanceof int[] a && a.length >= rows) {
            return a;
        }
        int[] out = intScratch(ts, rows);
        if (value instanceof long[] l && l.length >= rows) {
            for (int i = 0; i < rows; i++) {
                out[i] = (int) l[i];
            }
            return out;
        }
        throw new IllegalStateException("pointcut.step-positions is not an int[] or long[] of at least " + rows
                + " entries");
    }

    private static long[] longScratch(ThreadState ts, int n) {
        if (ts.longScratch.length < n) {
            ts.longScratch = new long[Math.max(n, 2 * ts.longScratch.length)];
        }
        return ts.longScratch;
    }

    private static int[] intScratch(ThreadState ts, int n) {
        if (ts.intScratch.length < n) {
            ts.intScratch = new int[Math.max(n, 2 * ts.intScratch.length)];
        }
        return ts.intScratch;
    }

    /** Counts one record of about {@code size} bytes against the caps; false (and recording off) when over. */
    private boolean reserve(long size) {
        long r = records.incrementAndGet();
        // the byte count serves only the max-bytes cap: without one, spare every record a shared atomic update
        long b = maxBytes > 0 ? bytes.addAndGet(size) : 0;
        if (maxRecords > 0 && r > maxRecords) {
            capReached("max-records=" + maxRecords);
            return false;
        }
        if (maxBytes > 0 && b > maxBytes) {
            capReached("max-bytes=" + maxBytes);
            return false;
        }
        return true;
    }

    private void capReached(String cap) {
        recording = false;
        stats.stopped(AgentStats.CAP);
        if (failed.compareAndSet(false, true)) {
            System.err.println("moe-agent: " + cap + " reached; recording stopped, " + config.queueDir()
                    + " keeps the records written so far");
        }
    }

    private void writeMeta(RouteRecordWriter writer, Object stepObject) throws Throwable {
        synchronized (metaLock) {
            if (metaWritten) {
                return;
            }
            Map<?, ?> info = runInfo != null && stepObject != null && runInfo.get(stepObject) instanceof Map<?, ?> m
                    ? m : Map.of();
            MetaRecord meta = meta(info);
            reserve(HEADER + 256);
            stats.wrote(writer.writeMeta(meta));
            metaWritten = true;
        }
    }

    private MetaRecord meta(Map<?, ?> info) {
        Map<String, String> extra = new LinkedHashMap<>();
        info.forEach((key, value) -> {
            if (key != null && !META_KEYS.contains(key.toString())) {
                extra.put(key.toString(), String.valueOf(value));
            }
        });
        int numLayers = (int) number(info, "num_layers");
        int[] moeLayers = intList(info.get("moe_layers"));
        int[] recorded;
        if (moeLayers != null) {
            recorded = layers.filter(moeLayers);
        } else if (!layers.isAll()) {
            recorded = layers.listed();
        } else if (numLayers > 0) {
            recorded = layers.filter(java.util.stream.IntStream.range(0, numLayers).toArray());
        } else {
            recorded = new int[0];
        }
        return new MetaRecord(RouteFormat.SCHEMA_VERSION, agentVersion, text(info, "model_id"), text(info, "engine"),
                text(info, "engine_version"), text(info, "torch_version"), System.getProperty("java.version", ""),
                text(info, "device"), text(info, "dtype"), number(info, "seed"), numLayers,
                (int) number(info, "num_experts"), (int) number(info, "top_k"), recorded, config.describe(),
                System.currentTimeMillis(), ProcessHandle.current().pid(), extra, runId, hostName());
    }

    /** The machine's host name without a DNS lookup (which may hang on a machine without network). */
    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (Exception | Error e) {
            return "";
        }
    }

    private static String text(Map<?, ?> info, String key) {
        Object v = info.get(key);
        return v == null ? "" : v.toString();
    }

    private static long number(Map<?, ?> info, String key) {
        try {
            return Long.parseLong(text(info, key).trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static int[] intList(Object v) {
        if (v == null || v.toString().isBlank()) {
            return null;
        }
        try {
            return Arrays.stream(v.toString().replaceAll("[\\[\\] ]", "").split(","))
                    .filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            return null;
        }
    }

    void fail(String what, Throwable t) {
        boolean wasRecording = recording;
        recording = false;
        // a call that was already inside when detach or JVM exit closed the queue is not a failure worth a line
        if (wasRecording) {
            stats.stopped(AgentStats.ERROR);
        }
        if (wasRecording && failed.compareAndSet(false, true)) {
            String cause = t == null ? "" : " (" + t.getClass().getSimpleName()
                    + (t.getMessage() == null ? "" : ": " + t.getMessage().lines().findFirst().orElse("")) + ")";
            System.err.println("moe-agent: " + what + cause + "; recording stopped, the host continues");
        }
    }

    /** Stops recording; calls already inside {@link #onSelection} finish their current record. */
    void stop() {
        recording = false;
    }

    boolean isRecording() {
        return recording;
    }

    long records() {
        return records.get();
    }
}
