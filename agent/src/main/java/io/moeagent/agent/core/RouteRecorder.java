package io.moeagent.agent.core;

import io.moeagent.agent.bridge.AgentLines;
import io.moeagent.agent.bridge.RouteBridge;
import io.moeagent.agent.bridge.RouteSink;
import io.moeagent.config.AgentConfig;
import io.moeagent.config.LayerSelection;
import io.moeagent.config.MetaFacts;
import io.moeagent.config.Pointcuts;
import io.moeagent.config.Scopes;
import io.moeagent.config.ValuePath;
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
 * Turns selection-method exits and scope entries/exits into records: the meta record once (at the first recorded
 * call), a step record at a step's first route, then one route record per recorded layer and step. Router calls
 * inside one layer scope call accumulate into one route record (rows in call order); without a layer scope each
 * call is one record. Where a step begins: at the outermost call of {@code scope.step}; else when the engine's step
 * context changes its id; else when a layer is not greater than the previous one. Without a step context the agent
 * numbers requests (one per outermost {@code scope.request} call, else one per thread) and positions (a row's index
 * within its request, or {@code pointcut.position} + row). One appender per thread; after warm-up nothing is
 * allocated per row. Any failure stops recording with one stderr line; the host never sees an exception.
 */
final class RouteRecorder implements RouteSink {
    private static final int HEADER = RouteFormat.DOCUMENT_HEADER;
    /** After this many steps without a record, say so (and again never): a pointcut that matches nothing. */
    static final long EARLY_NOTE_STEP = 16;
    private static final Set<String> META_KEYS = Set.of("model_id", "engine", "engine_version", "torch_version",
            "device", "dtype", "seed", "num_layers", "num_experts", "top_k", "moe_layers");
    private static final int REQUEST = RouteBridge.REQUEST;
    private static final int STEP = RouteBridge.STEP;
    private static final int LAYER = RouteBridge.LAYER;

    private final ChronicleQueue queue;
    private final DiskGuard guard;
    private final AgentConfig config;
    private final LayerSelection layers;
    private final int sampleEvery;
    private final long maxRecords;
    private final long maxBytes;
    private final String agentVersion;

    private final ValueReader layer;
    private final ValueReader ids;
    /** Weights as an array aligned with the ids, or null; {@link #gather} when they are per expert. */
    private final ValueReader weights;
    private final WeightGather gather;
    private final boolean recordWeights;
    private final ValueReader tokens;
    private final ValueReader k;
    private final ValueReader position;
    private final ValueReader step;
    private final boolean stepScope;
    private final boolean requestScope;
    private final boolean layerScope;
    private final MetaFacts metaFacts;
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
     * Step ids in the queue are the agent's own, unique per run: two engines (or threads) in one JVM may use the
     * same step ids, and a reader joins routes to steps by (run, step). The engine's ids only mark where a step begins.
     */
    private final AtomicLong queueStepIds = new AtomicLong();
    /** Request ids the agent numbers (engines without a step context). */
    private final AtomicLong agentRequestIds = new AtomicLong();
    private final AtomicBoolean failed = new AtomicBoolean();
    /** Every host thread's state, so that stop can wait for calls in flight and close their appenders. */
    private final List<ThreadState> states = new ArrayList<>();
    private final ThreadLocal<ThreadState> threads = ThreadLocal.withInitial(this::newThreadState);
    /** Highest layer index any call reported (for the "nothing matched" note); racy, only grows in practice. */
    private volatile int maxLayerSeen = Integer.MIN_VALUE;
    private final AtomicBoolean noted = new AtomicBoolean();
    private volatile boolean quiet;
    private volatile String failure;
    /** The session's own account (calls, time inside, records, bytes, drops), written by StatsReporter. */
    final AgentStats stats = new AgentStats();

    /** Per host thread: its appender, scopes, current request, step and route, and scratch arrays. */
    private static final class ThreadState {
        /** True while the thread is inside one of the sink's entry points. */
        volatile boolean inside;
        /** Calls of the selection method by this thread (plain: only this thread writes it). */
        long calls;
        RouteRecordWriter writer;
        final ScopeTracker scopes = new ScopeTracker();
        final RouteAccumulator route = new RouteAccumulator();
        // the current step
        boolean hasStep;
        long stepId;
        long queueStepId;
        boolean sampled;
        boolean stepWritten;
        int lastLayer;
        long localSteps;
        Object stepObject;
        /** Rows of the step's first route, or -1 before it. */
        int stepRows = -1;
        /** Position of the step's first row (agent numbering), read at its first router call. */
        long stepStart;
        boolean stepStartKnown;
        // the current request (agent numbering)
        long requestId = -1;
        long requestRows;
        long requestSteps;
        long[] longScratch = new long[0];
        int[] intScratch = new int[0];
    }

    RouteRecorder(AgentConfig config, ChronicleQueue queue, String agentVersion) {
        this(config, queue, agentVersion, null);
    }

    /** @param guard the queue's disk guard (issue 9), consulted before every record; null = none (tests) */
    RouteRecorder(AgentConfig config, ChronicleQueue queue, String agentVersion, DiskGuard guard) {
        this.guard = guard;
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
        // weights are read whenever the pointcuts name them: they order the rows even when weights=false
        this.weights = p.weights() == null ? null : new ValueReader("pointcut.weights", p.weights());
        this.gather = p.weights() != null && p.weights().gather()
                ? new WeightGather("pointcut.weights=" + p.weights()) : null;
        this.recordWeights = config.recordWeights();
        this.tokens = p.tokens() == null ? null : new ValueReader("pointcut.tokens", p.tokens());
        this.k = new ValueReader("pointcut.k", p.k());
        this.position = p.position() == null ? null : new ValueReader("pointcut.position", p.position());
        this.step = p.step() == null ? null : new ValueReader("pointcut.step", p.step());
        Scopes scopes = p.scopes();
        this.stepScope = scopes.step() != null;
        this.requestScope = scopes.request() != null;
        this.layerScope = scopes.layer() != null;
        this.metaFacts = p.meta();
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
    public Object enterScope(int scope, Object self, Object[] arguments) {
        if (!recording) {
            return null;
        }
        ThreadState ts = null;
        try {
            ts = threads.get();
            ts.inside = true;
            if (!recording) {
                return null;
            }
            ScopeTracker.Frame f = ts.scopes.enter(scope, self, arguments);
            if (ScopeTracker.began(f)) {
                if (scope == REQUEST) {
                    endStep(ts);
                    beginRequest(ts);
                } else if (scope == STEP) {
                    endStep(ts);
                    beginAgentStep(ts);
                }
            }
            return f;
        } catch (Throwable t) {
            fail("recording failed", t);
            return null;
        } finally {
            if (ts != null) {
                ts.inside = false;
            }
        }
    }

    @Override
    public void exitScope(int scope, Object token) {
        if (!(token instanceof ScopeTracker.Frame f) || !recording) {
            return;
        }
        ThreadState ts = null;
        try {
            ts = threads.get();
            ts.inside = true;
            if (!recording || f.owner != ts.scopes || !ts.scopes.exit(f)) {
                return;
            }
            if (scope == LAYER) {
                flushRoute(ts);
            } else if (scope == STEP) {
                endStep(ts);
            } else {
                endStep(ts);
                ts.requestId = -1;
            }
        } catch (Throwable t) {
            fail("recording failed", t);
        } finally {
            if (ts != null) {
                ts.inside = false;
            }
        }
    }

    /**
     * A host thread's call: marked as inside (a volatile store on the thread's own state, no shared counter)
     * before it looks at {@link #recording}, so that {@link #stopAndDrain} can wait for every call that might
     * still touch the queue.
     */
    @Override
    public void onSelection(Object self, Object argument, Object result) {
        if (!recording) {
            stats.dropped();
            return;
        }
        ThreadState ts = null;
        try {
            ts = threads.get();
            ts.inside = true;
            if (recording) {
                ts.calls++;
                record(ts, self, argument, result);
            }
        } catch (Throwable t) {
            fail("recording failed", t);
        } finally {
            if (ts != null) {
                ts.inside = false;
            }
        }
    }

    private ThreadState newThreadState() {
        ThreadState ts = new ThreadState();
        synchronized (states) {
            states.add(ts);
        }
        return ts;
    }

    private void record(ThreadState ts, Object self, Object argument, Object result) throws Throwable {
        ScopeTracker sc = ts.scopes;
        int layerIndex = layer.getInt(self, argument, result, sc);
        if (layerIndex > maxLayerSeen) {
            maxLayerSeen = layerIndex;
        }
        Object layerFrame = layerScope ? sc.outermost(LAYER) : null;
        RouteAccumulator route = ts.route;
        if (!route.continues(layerIndex, layerFrame)) {
            flushRoute(ts);
            if (step != null) {
                Object stepObject = step.get(self, argument, result, sc);
                long id = stepId.getLong(stepObject);
                if (!ts.hasStep || id != ts.stepId) {
                    beginStep(ts, id, queueStepIds.getAndIncrement(), Math.floorMod(id, (long) sampleEvery) == 0);
                }
                ts.stepObject = stepObject;
            } else if (!(stepScope && sc.active(STEP)) && (!ts.hasStep || layerIndex <= ts.lastLayer)) {
                // no step scope running and no step context: a layer that does not follow the previous one
                // starts the next forward step
                endStep(ts);
                beginAgentStep(ts);
            }
            ts.lastLayer = layerIndex;
            if (step == null && !ts.stepStartKnown) {
                ts.stepStart = position != null ? position.getInt(self, argument, result, sc) : -1;
                ts.stepStartKnown = true;
            }
        }
        if (ts.queueStepId == EARLY_NOTE_STEP && records.get() == 0) {
            noteIfNothingRecorded(1);
        }
        boolean recorded = ts.sampled && layers.includes(layerIndex);
        if (!recorded && (step != null || ts.stepRows >= 0)) {
            return; // positions need only the rows of the step's first route
        }
        int topK = k.getInt(self, argument, result, sc);
        int[] expertIds = (int[]) ids.get(self, argument, result, sc);
        int rows = tokens != null ? tokens.getInt(self, argument, result, sc) : expertIds.length / Math.max(topK, 1);
        Object w = weights == null ? null : weights.get(self, argument, result, sc);
        float[] aligned = gather == null ? (float[]) w : null;
        if (topK < 1 || topK > RouteFormat.MAX_TOP_K || rows < 0 || expertIds.length < (long) rows * topK
                || (aligned != null && aligned.length < (long) rows * topK)) {
            fail("layer " + layerIndex + " returned an unusable selection ("
                    + RouteRecordWriter.checkRoute(rows, topK, expertIds, aligned) + "); check the pointcut.* options",
                    null);
            return;
        }
        if (!route.isOpen()) {
            route.begin(layerIndex, topK, weights != null, layerFrame);
        } else if (route.k() != topK) {
            fail("layer " + layerIndex + " changed k from " + route.k() + " to " + topK + " inside one step", null);
            return;
        }
        if (!recorded) {
            route.countOnly(rows);
        } else if (!layerScope && gather == null && (aligned == null || RouteAccumulator.bestFirst(aligned, rows, topK))) {
            // one call, one record, already best-first (or without weights): write straight from the engine's arrays
            route.close();
            writeRoute(ts, self, argument, result, layerIndex, rows, topK, expertIds, aligned, aligned == null);
            return;
        } else if (gather != null) {
            int at = route.reserveRows(rows);
            System.arraycopy(expertIds, 0, route.ids(), at, rows * topK);
            gather.gather(w, expertIds, 0, rows * topK, route.weights(), at);
            route.commitRows(rows);
        } else {
            int at = route.reserveRows(rows);
            route.append(expertIds, aligned, rows);
            if (aligned != null) {
                RouteAccumulator.sortRows(route.ids(), route.weights(), at, rows, topK);
            }
        }
        if (!metaWritten && recorded && !writeMeta(writer(ts), ts.stepObject, self, argument, result, topK)) {
            return;
        }
        if (!layerScope) {
            flushRoute(ts);
        }
    }

    /** Writes the thread's open route, if any, with its step record first when the step has none yet. */
    private void flushRoute(ThreadState ts) throws Throwable {
        RouteAccumulator route = ts.route;
        if (!route.isOpen()) {
            return;
        }
        int rows = route.rows();
        int layerIndex = route.layer();
        boolean recorded = ts.sampled && layers.includes(layerIndex);
        route.close();
        if (ts.stepRows < 0) {
            ts.stepRows = rows;
        }
        if (recorded && recording) {
            writeRoute(ts, null, null, null, layerIndex, rows, route.k(), route.ids(),
                    route.hasWeights() ? route.weights() : null, !route.hasWeights());
        }
    }

    private void writeRoute(ThreadState ts, Object self, Object argument, Object result, int layerIndex, int rows,
                            int topK, int[] expertIds, float[] w, boolean engineOrder) throws Throwable {
        RouteRecordWriter writer = writer(ts);
        if (!metaWritten && !writeMeta(writer, ts.stepObject, self, argument, result, topK)) {
            return;
        }
        if (ts.stepRows < 0) {
            ts.stepRows = rows;
        }
        if (!ts.stepWritten) {
            if (!writeStep(ts, writer, ts.stepObject, rows)) {
                return;
            }
            ts.stepWritten = true;
        }
        float[] written = recordWeights ? w : null;
        if (!reserve(HEADER + RouteFormat.routeRecordBytes(rows, topK, written != null))) {
            return;
        }
        stats.recorded(writer.writeRoute(runId, ts.queueStepId, layerIndex, rows, topK, expertIds, written,
                engineOrder));
        written(writer);
    }

    private void written(RouteRecordWriter writer) {
        if (guard != null) {
            guard.written(writer.appender());
        }
    }

    private RouteRecordWriter writer(ThreadState ts) {
        return ts.writer != null ? ts.writer : newWriter(ts);
    }

    private void beginRequest(ThreadState ts) {
        ts.requestId = agentRequestIds.getAndIncrement();
        ts.requestRows = 0;
        ts.requestSteps = 0;
    }

    /** A step the agent numbers (step scope, or no step context). */
    private void beginAgentStep(ThreadState ts) {
        long id = queueStepIds.getAndIncrement();
        beginStep(ts, id, id, ts.localSteps++ % sampleEvery == 0);
        ts.stepObject = null;
    }

    /** Ends the thread's current step: writes its open route and advances the request's positions. */
    private void endStep(ThreadState ts) throws Throwable {
        flushRoute(ts);
        if (ts.hasStep && step == null && ts.stepRows > 0) {
            ts.requestRows += ts.stepRows;
            ts.requestSteps++;
        }
        ts.hasStep = false;
    }

    private static void beginStep(ThreadState ts, long engineStepId, long queueStepId, boolean sampled) {
        ts.hasStep = true;
        ts.stepId = engineStepId;
        ts.queueStepId = queueStepId;
        ts.sampled = sampled;
        ts.stepWritten = false;
        ts.lastLayer = Integer.MIN_VALUE;
        ts.stepRows = -1;
        ts.stepStartKnown = false;
    }

    private RouteRecordWriter newWriter(ThreadState ts) {
        RouteRecordWriter w = new RouteRecordWriter(queue.createAppender());
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
            // no step context: the agent numbers requests and positions
            rows = routeRows;
            if (ts.requestId < 0) {
                beginRequest(ts); // no request scope (or a call outside it): one request per thread
            }
            long start = ts.stepStart >= 0 ? ts.stepStart : ts.requestRows;
            reqs = longScratch(ts, rows);
            pos = intScratch(ts, rows);
            for (int i = 0; i < rows; i++) {
                reqs[i] = ts.requestId;
                pos[i] = (int) (start + i);
            }
            // with a request scope, a request's first step is its prefill; without one, a step of several rows
            prefill = requestScope ? ts.requestSteps == 0 : rows > 1;
        } else {
            rows = stepTokens != null ? stepTokens.getInt(stepObject) : routeRows;
            reqs = asLongs(ts, requestIds.get(stepObject), rows);
            pos = asInts(ts, positions.get(stepObject), rows);
            prefill = stepPrefill != null ? stepPrefill.getBoolean(stepObject) : rows > 1;
            toks = optionalInts(stepObject, rows);
            phases = optionalPhases(stepObject, rows);
        }
        byte phase = phases != null ? stepPhase(phases, rows)
                : prefill ? RouteFormat.PHASE_PREFILL : RouteFormat.PHASE_DECODE;
        if (!reserve(HEADER + RouteFormat.stepRecordBytes(rows, toks != null, phases != null))) {
            return false;
        }
        stats.wrote(writer.writeStep(runId, ts.queueStepId, phase, rows, reqs, pos, toks, phases));
        written(writer);
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
            return a;
        }
        if (rows == 0) {
            return null;
        }
        throw new IllegalStateException("pointcut.step-phases is not a byte[] of at least " + rows + " entries");
    }

    /** The step's phase from its rows' (prefill, decode or mixed), checking every row in the same pass. */
    private static byte stepPhase(byte[] phases, int rows) {
        byte phase = phases[0];
        for (int i = 0; i < rows; i++) {
            byte p = phases[i];
            if (p != RouteFormat.PHASE_PREFILL && p != RouteFormat.PHASE_DECODE) {
                throw new IllegalStateException("pointcut.step-phases holds " + p + " at row " + i
                        + "; expected 0 (prefill) or 1 (decode)");
            }
            if (p != phase) {
                phase = RouteFormat.PHASE_MIXED;
            }
        }
        return phase;
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
        if (guard != null && !guard.admit(size)) {
            stats.stopped(AgentStats.DISK);
            stopped(guard.stopReason());
            return false;
        }
        return true;
    }

    private void capReached(String cap) {
        stats.stopped(AgentStats.CAP);
        stopped(cap + " reached");
    }

    /** Recording off with one line: {@code why}, and that the queue keeps what it has. */
    private void stopped(String why) {
        recording = false;
        if (failed.compareAndSet(false, true)) {
            print(why + "; recording stopped, " + config.queueDir() + " keeps the records written so far");
        }
    }

    /** False when a cap or the disk stopped recording before the meta record. */
    private boolean writeMeta(RouteRecordWriter writer, Object stepObject, Object self, Object argument,
                              Object result, int topK) throws Throwable {
        synchronized (metaLock) {
            if (metaWritten) {
                return true;
            }
            Map<?, ?> info = runInfo != null && stepObject != null && runInfo.get(stepObject) instanceof Map<?, ?> m
                    ? m : Map.of();
            MetaRecord meta = meta(withConfiguredFacts(info, threads.get().scopes, self, argument, result, topK));
            if (!reserve(HEADER + metaBytes(meta))) {
                return false;
            }
            stats.wrote(writer.writeMeta(meta));
            written(writer);
            metaWritten = true;
            return true;
        }
    }

    /** An upper bound of the meta record's size: UTF-8 takes at most 3 bytes per char of these strings. */
    static long metaBytes(MetaRecord m) {
        long n = 128 + 4L * m.layersRecorded().length;
        for (String s : new String[] {m.agentVersion(), m.modelId(), m.engine(), m.engineVersion(),
            m.torchVersion(), m.javaVersion(), m.device(), m.dtype(), m.host(), m.configuration()}) {
            n += 4 + 3L * s.length();
        }
        for (Map.Entry<String, String> e : m.extra().entrySet()) {
            n += 8 + 3L * (e.getKey().length() + e.getValue().length());
        }
        return n + RouteFormat.CRC_BYTES;
    }

    /**
     * The engine's run info, completed from the configuration's meta.* facts (read now, in the first recorded call)
     * where it lacks them; top_k falls back to the call's k.
     */
    private Map<Object, Object> withConfiguredFacts(Map<?, ?> info, ScopeTracker sc, Object self, Object argument,
                                                    Object result, int topK) throws Throwable {
        Map<Object, Object> out = new LinkedHashMap<>(info);
        putIfAbsent(out, "model_id", metaFacts.modelId(), sc, self, argument, result);
        putIfAbsent(out, "engine", metaFacts.engine(), sc, self, argument, result);
        putIfAbsent(out, "engine_version", metaFacts.engineVersion(), sc, self, argument, result);
        putIfAbsent(out, "num_experts", metaFacts.numExperts(), sc, self, argument, result);
        putIfAbsent(out, "num_layers", metaFacts.numLayers(), sc, self, argument, result);
        putIfAbsent(out, "top_k", metaFacts.topK(), sc, self, argument, result);
        if (!out.containsKey("top_k") && topK > 0) {
            out.put("top_k", topK);
        }
        return out;
    }

    private void putIfAbsent(Map<Object, Object> out, String key, Object fact, ScopeTracker sc, Object self,
                             Object argument, Object result) throws Throwable {
        if (fact == null || (out.get(key) != null && !out.get(key).toString().isBlank())) {
            return;
        }
        if (fact instanceof ValuePath path) {
            ValueReader r = new ValueReader("meta." + key.replace('_', '-'), path);
            out.put(key, path.isConstant() ? path.constant() : r.get(self, argument, result, sc));
        } else {
            out.put(key, fact);
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
            print(what + cause + "; recording stopped, the host continues");
        }
    }

    /** Stops recording; calls already inside {@link #onSelection} finish their current record. */
    void stop() {
        recording = false;
    }

    /**
     * Stops recording, waits up to {@code timeoutMillis} for every call inside the sink to leave, then closes every
     * thread's appender and drops it from the thread's state (so that a host thread's thread-local keeps neither the
     * appender nor the queue reachable). Returns false, closing nothing, when a call was still inside at the
     * deadline: then the queue must not be closed either.
     */
    boolean stopAndDrain(long timeoutMillis) {
        recording = false;
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        List<ThreadState> all;
        synchronized (states) {
            all = new ArrayList<>(states);
        }
        for (ThreadState ts : all) {
            while (ts.inside) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.onSpinWait();
                Thread.yield();
            }
        }
        closeWriters(all);
        if (guard != null) {
            guard.close();
        }
        return true;
    }

    /**
     * Closes every thread's appender and drops it from the thread's state. Only when no call is inside: after
     * {@link #stopAndDrain}, or for the warm-up's scratch recorders on the warm-up's own thread.
     */
    void closeWriters() {
        recording = false;
        List<ThreadState> all;
        synchronized (states) {
            all = new ArrayList<>(states);
        }
        closeWriters(all);
    }

    private static void closeWriters(List<ThreadState> all) {
        for (ThreadState ts : all) {
            RouteRecordWriter w = ts.writer;
            ts.writer = null;
            ts.longScratch = new long[0];
            ts.intScratch = new int[0];
            if (w != null) {
                try {
                    w.appender().singleThreadedCheckDisabled(true);
                    w.appender().close();
                } catch (Throwable t) {
                    // closing the queue releases what the appender held anyway
                }
            }
        }
    }

    /** Calls of the selection method seen so far (all threads; exact once they have left). */
    long calls() {
        long n = 0;
        synchronized (states) {
            for (ThreadState ts : states) {
                n += ts.calls;
            }
        }
        return n;
    }

    /**
     * When this recording session wrote nothing although it ran: one line saying why it may be and what was
     * configured. {@code woven} is how many classes the pointcut matched. Said at most once.
     */
    void noteIfNothingRecorded(int woven) {
        if (records.get() > 0 || failed.get() || !noted.compareAndSet(false, true)) {
            return;
        }
        Pointcuts p = config.pointcuts();
        String what;
        long calls = calls();
        if (woven == 0) {
            what = "no loaded class matched pointcut.class=" + AgentLines.quote(p.className());
        } else if (calls == 0) {
            what = "pointcut.method=" + AgentLines.quote(p.methodName()) + " of " + AgentLines.quote(p.className())
                    + " was never called";
        } else {
            int max = maxLayerSeen;
            what = calls + " calls of " + p.className() + "#" + p.methodName() + " matched none of layers="
                    + AgentLines.quote(layers.toString()) + (max >= 0 ? " (layers seen: 0.." + max + ")" : "")
                    + (sampleEvery > 1 ? " at sample-every=" + sampleEvery : "");
        }
        print("nothing was recorded: " + what + "; check the agent options");
    }

    boolean isRecording() {
        return recording;
    }

    /** For the warm-up's scratch recorder: its lines are kept ({@link #failure()}) instead of printed. */
    void quiet() {
        quiet = true;
    }

    /** The first line a quiet recorder would have printed (why it stopped), or null. */
    String failure() {
        return failure;
    }

    private void print(String text) {
        if (quiet) {
            if (failure == null) {
                failure = text;
            }
        } else {
            AgentLines.print(text);
        }
    }

    long records() {
        return records.get();
    }
}
