package io.moeagent.agent.core;

import io.moeagent.agent.bridge.AgentLines;
import io.moeagent.config.AgentConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import net.openhft.chronicle.queue.ChronicleQueue;

/**
 * The start-up warm-up ({@code warmup=N}): on a daemon thread ({@value #THREAD}) of the agent's own class loader,
 * N synthetic selection calls go through the very classes a host's call goes through (MeasuredSink, RouteRecorder
 * with its ValueReaders and FieldChains, RouteRecordWriter, DiskGuard, Chronicle's appender) into a scratch queue
 * in a fresh 0700 directory under {@code java.io.tmpdir}, deleted afterwards. Without it the host's first few
 * hundred selection calls run that code interpreted (~0.2 ms a call instead of ~1 µs). The synthetic router,
 * selection and step context have the shape of the bundled host engine's (profile {@code moe-host}); its calls
 * are counted only in {@link AgentStats#warmup}, never as the session's calls or time inside. It ends after N
 * calls or at the host's first selection call, whichever comes first: from then on it would only compete with
 * generation for the CPU (a fresh session every {@link #SESSION_CALLS} calls and a mix of row counts keep the host's
 * first calls from taking paths the compiled code has never seen, which would deoptimize it). Its recorder,
 * queue, appender, disk guard and statistics are its own, so host calls arriving meanwhile are recorded exactly
 * as without it. A failure costs one stderr line and leaves the agent unwarmed; detach and exit cancel it.
 */
final class Warmup {
    static final String THREAD = "moe-agent-warmup";
    /** Synthetic model: layers per step, experts, experts per row, rows of a decode and of a prefill step. */
    static final int LAYERS = 4;
    static final int EXPERTS = 60;
    static final int K = 4;
    /** Synthetic calls per scratch session (a fresh recorder, as a new host thread or run would start). */
    static final int SESSION_CALLS = 4096;
    /** How long cancel waits for the thread to close its scratch queue and delete it. */
    static final long CANCEL_WAIT_MILLIS = 1000;

    private final AgentConfig real;
    private final int calls;
    private final AgentStats into;
    private final String agentVersion;
    private final Thread thread;
    private volatile boolean cancelled;
    private volatile Path scratch;

    private Warmup(AgentConfig real, AgentStats into, String agentVersion) {
        this.real = real;
        this.calls = real.warmupCalls();
        this.into = into;
        this.agentVersion = agentVersion;
        this.thread = new Thread(this::run, THREAD);
        thread.setDaemon(true);
        thread.setContextClassLoader(Warmup.class.getClassLoader());
    }

    /** Starts the warm-up for the session configured by {@code real}; null when it is off ({@code warmup=0}). */
    static Warmup start(AgentConfig real, AgentStats into, String agentVersion) {
        if (real.warmupCalls() <= 0) {
            return null;
        }
        Warmup w = new Warmup(real, into, agentVersion);
        into.warmup(w.calls, 0, 0, 0, AgentStats.WARMUP_RUNNING);
        w.thread.start();
        return w;
    }

    /**
     * Stops the warm-up (detach, exit) and waits at most {@link #CANCEL_WAIT_MILLIS} for it to close and delete its
     * scratch queue; if it is still running then, its files are unlinked here (the thread's mappings stay valid).
     */
    void cancel() {
        cancelled = true;
        try {
            thread.join(CANCEL_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Path dir = scratch;
        if (thread.isAlive() && dir != null) {
            try {
                deleteTree(dir);
            } catch (IOException | RuntimeException ignored) {
                // best effort at exit
            }
        }
    }

    /** Waits for the warm-up to end by itself (tests). */
    boolean await(long millis) throws InterruptedException {
        thread.join(millis);
        return !thread.isAlive();
    }

    private void run() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        boolean cpu = mx.isCurrentThreadCpuTimeSupported();
        long t0 = System.nanoTime();
        long cpu0 = cpu ? mx.getCurrentThreadCpuTime() : 0;
        long done = 0;
        String failure = null;
        ChronicleQueue q = null;
        DiskGuard guard = null;
        RouteRecorder r = null;
        try {
            loadBufferClasses();
            Path dir = privateTempDir();
            scratch = dir;
            Path qdir = dir.resolve("queue");
            AgentConfig c = AgentConfig.parse(arguments(real, qdir), null, dir);
            guard = DiskGuard.beforeOpen(qdir, c.minFreeSpace(), c.rollCycle());
            q = QueueFiles.open(qdir, c.rollCycle(), 0, guard);
            MeasuredSink sink = null;
            Synthetic model = new Synthetic();
            while (done < calls && !cancelled && !into.hostCalled()) {
                if (done % SESSION_CALLS == 0) {
                    // a fresh session now and then: its first calls (appender, meta record, resolving the field
                    // chains, growing the writer's buffer) are paths the host's first calls take too
                    if (r != null) {
                        r.closeWriters();
                    }
                    r = new RouteRecorder(c, q, agentVersion, guard);
                    r.quiet();
                    sink = new MeasuredSink(r, new AgentStats(), 0);
                }
                model.call(sink, done);
                done++;
                if (!r.isRecording()) {
                    failure = r.failure() != null ? r.failure() : "the scratch recorder stopped";
                    break;
                }
                if ((done & 4095) == 0) {
                    into.warmup(calls, done, System.nanoTime() - t0, cpu ? mx.getCurrentThreadCpuTime() - cpu0 : 0,
                            AgentStats.WARMUP_RUNNING);
                }
            }
        } catch (Throwable t) {
            failure = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        } finally {
            failure = closeAndDelete(r, guard, q, failure);
            int end = failure != null ? AgentStats.WARMUP_FAILED : cancelled ? AgentStats.WARMUP_CANCELLED
                    : done < calls ? AgentStats.WARMUP_HOST_STARTED : AgentStats.WARMUP_DONE;
            into.warmup(calls, done, System.nanoTime() - t0, cpu ? mx.getCurrentThreadCpuTime() - cpu0 : 0, end);
            if (failure != null) {
                AgentLines.print("warm-up failed after " + done + " of " + calls + " synthetic calls (" + failure
                        + "); recording goes on unwarmed (warmup=0 turns the warm-up off)");
            }
        }
    }

    /** Closes the scratch recorder, guard and queue and deletes the directory; returns the first failure. */
    private String closeAndDelete(RouteRecorder r, DiskGuard guard, ChronicleQueue q, String failure) {
        String first = failure;
        try {
            if (r != null) {
                r.stopAndDrain(CANCEL_WAIT_MILLIS); // this thread's appender, and the guard
            } else if (guard != null) {
                guard.close();
            }
            if (q != null) {
                q.close();
            }
        } catch (Throwable t) {
            first = first != null ? first : "closing the scratch queue: " + t;
        }
        Path dir = scratch;
        if (dir != null) {
            try {
                deleteTree(dir);
            } catch (IOException | RuntimeException e) {
                first = first != null ? first : "cannot delete " + dir + ": " + e.getMessage();
            }
        }
        return first;
    }

    /**
     * Loads the JDK's NIO buffer classes before anything is compiled. The writer puts into view buffers
     * ({@code FloatBuffer.put} and the like); compiled while only one subclass is loaded, that code depends on it
     * being the only one, and a host that loads another later (DJL and PyTorch do, at their first tensors) makes
     * it not entrant: the host's calls then run interpreted again until it is recompiled (seen with
     * -XX:+PrintCompilation, issue 11).
     */
    static void loadBufferClasses() {
        for (java.nio.ByteBuffer b : new java.nio.ByteBuffer[] {java.nio.ByteBuffer.allocate(64),
            java.nio.ByteBuffer.allocateDirect(64)}) {
            for (java.nio.ByteOrder order : new java.nio.ByteOrder[] {java.nio.ByteOrder.BIG_ENDIAN,
                java.nio.ByteOrder.LITTLE_ENDIAN}) {
                for (java.nio.ByteBuffer v : new java.nio.ByteBuffer[] {b.order(order), b.asReadOnlyBuffer().order(order)}) {
                    v.asFloatBuffer().get(0);
                    v.asIntBuffer().get(0);
                    v.asLongBuffer().get(0);
                    v.asShortBuffer().get(0);
                    v.asDoubleBuffer().get(0);
                    v.asCharBuffer().get(0);
                    v.duplicate().slice().get(0);
                }
            }
        }
        java.nio.FloatBuffer.allocate(1).asReadOnlyBuffer().get(0);
        java.nio.IntBuffer.allocate(1).asReadOnlyBuffer().get(0);
        java.nio.LongBuffer.allocate(1).asReadOnlyBuffer().get(0);
        java.nio.ShortBuffer.allocate(1).asReadOnlyBuffer().get(0);
        java.nio.DoubleBuffer.allocate(1).asReadOnlyBuffer().get(0);
        java.nio.CharBuffer.allocate(1).asReadOnlyBuffer().get(0);
        java.nio.CharBuffer.wrap("x").get(0);
    }

    /** A fresh directory under java.io.tmpdir that only this user can enter (0700 where POSIX). */
    private static Path privateTempDir() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        return Files.getFileAttributeView(tmp, PosixFileAttributeView.class) != null
                ? Files.createTempDirectory(tmp, "moe-agent-warmup-",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
                : Files.createTempDirectory(tmp, "moe-agent-warmup-");
    }

    /** Recording options of the scratch session: the synthetic router's pointcuts, the real session's format. */
    static String arguments(AgentConfig real, Path queue) {
        return "profile=moe-host,pointcut.class=" + Router.class.getName() + ",pointcut.method=selectExperts"
                + ",queue=" + queue + ",weights=" + real.recordWeights()
                + (real.pointcuts().weights() == null ? ",pointcut.weights=none" : "")
                + ",roll-cycle=" + real.rollCycle() + ",min-free-space=" + real.minFreeSpace() + ",warmup=0";
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * The synthetic engine: LAYERS routers, each step one call per layer with a fresh step context (like the host
     * engine's StepContext). A session of {@link #SESSION_CALLS} calls opens with a prefill of 32, 512 or 2048 rows
     * in turn (large records take other paths in the writer and in Chronicle's copy), every 64th step is a prefill
     * of 32 rows, the others decode 1 to 32 rows; ids distinct per row, weights best-first.
     */
    private static final class Synthetic {
        private static final int[] OPENING_ROWS = {32, 512, 2048};
        private final Router[] routers = new Router[LAYERS];
        private final Map<Integer, Selection[]> selections = new java.util.HashMap<>();
        private final Map<String, String> runInfo = Map.of("model_id", "moe-agent-warmup", "engine", "warmup",
                "num_layers", Integer.toString(LAYERS), "num_experts", Integer.toString(EXPERTS),
                "top_k", Integer.toString(K));
        private Step step;
        private Selection[] current;

        Synthetic() {
            for (int l = 0; l < LAYERS; l++) {
                routers[l] = new Router(l);
            }
        }

        private Selection[] selections(int rows) {
            return selections.computeIfAbsent(rows, n -> {
                Selection[] out = new Selection[LAYERS];
                for (int l = 0; l < LAYERS; l++) {
                    out[l] = selection(l, n);
                }
                return out;
            });
        }

        private static Selection selection(int layer, int rows) {
            int[] ids = new int[rows * K];
            float[] w = new float[rows * K];
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < K; j++) {
                    ids[row * K + j] = (layer * 7 + row * 13 + j * 17) % EXPERTS;
                    w[row * K + j] = 1f / (2 + j);
                }
            }
            return new Selection(rows, K, ids, w);
        }

        void call(MeasuredSink sink, long n) {
            int layer = (int) (n % LAYERS);
            if (layer == 0 || step == null) {
                long stepId = n / LAYERS;
                long inSession = (n % SESSION_CALLS) / LAYERS;
                int rows;
                boolean prefill;
                if (inSession == 0) {
                    rows = OPENING_ROWS[(int) (n / SESSION_CALLS % OPENING_ROWS.length)];
                    prefill = true;
                } else if (inSession % 64 == 0) {
                    rows = 32;
                    prefill = true;
                } else {
                    rows = 1 + (int) (stepId % 32);
                    prefill = false;
                }
                step = new Step(stepId, rows, prefill, stepId, runInfo);
                current = selections(rows);
            }
            sink.onSelection(routers[layer], step, current[layer]);
        }
    }

    /** The synthetic router (host shape: a private layer index, selectExperts(hidden, step)). */
    static final class Router {
        private final int layerIndex;

        Router(int layerIndex) {
            this.layerIndex = layerIndex;
        }
    }

    /** The synthetic expert selection (the host's ExpertSelection fields). */
    static final class Selection {
        final int tokens;
        final int k;
        final int[] expertIds;
        final float[] weights;

        Selection(int tokens, int k, int[] expertIds, float[] weights) {
            this.tokens = tokens;
            this.k = k;
            this.expertIds = expertIds;
            this.weights = weights;
        }
    }

    /** The synthetic step context (the host's StepContext fields). */
    static final class Step {
        final long stepId;
        final boolean prefill;
        final int tokens;
        final long[] requestIds;
        final int[] positions;
        final int[] tokenIds;
        final byte[] rowPhases;
        final Map<String, String> runInfo;

        Step(long stepId, int tokens, boolean prefill, long position, Map<String, String> runInfo) {
            this.stepId = stepId;
            this.prefill = prefill;
            this.tokens = tokens;
            this.requestIds = new long[tokens];
            this.positions = new int[tokens];
            this.tokenIds = new int[tokens];
            this.rowPhases = new byte[tokens];
            for (int i = 0; i < tokens; i++) {
                requestIds[i] = i;
                positions[i] = (int) (prefill ? i : position % 1024 + 32);
                tokenIds[i] = (int) ((position * 31 + i) % 1000);
                rowPhases[i] = prefill ? (byte) 0 : (byte) 1;
            }
            this.runInfo = runInfo;
        }
    }
}
