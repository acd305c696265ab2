package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteBridge;
import io.moeagent.config.AgentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.loading.ClassLoadingStrategy;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import io.moeagent.format.RouteRecordWriter;
import io.moeagent.format.SchemaV1Writer;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import static net.bytebuddy.matcher.ElementMatchers.named;

/**
 * Cost per expert-selection call of the advice plus the record it writes: the same {@link SelectionAdvice}
 * woven (by ByteBuddy, as the agent does) into a router that returns a prepared 25 x top-4 selection, the real
 * {@link RouteRecorder} and a real Chronicle queue. A step record is written every 24 calls (one per step of a
 * 24-layer model), as in a decode loop. {@code plain} is the same call without advice. {@code sink=measured} puts
 * the agent's {@link MeasuredSink} (its own cost accounting: two clock reads, two adds, a max) in front of the recorder,
 * as the agent runs; {@code sink=recorder} is the recorder alone, so the difference is the accounting's cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"})
public class RecordBench {
    public static final int LAYERS = 24;

    public interface Selector {
        BenchSelection selectExperts(Object hidden, BenchStep step);
    }

    /** Stand-in router: returns a prepared selection, so the benchmark measures the agent, not routing. */
    public static final class BenchRouter implements Selector {
        private final int layerIndex;
        private final BenchSelection selection;

        public BenchRouter(int layerIndex, BenchSelection selection) {
            this.layerIndex = layerIndex;
            this.selection = selection;
        }

        @Override
        public BenchSelection selectExperts(Object hidden, BenchStep step) {
            return selection;
        }

        public int layer() {
            return layerIndex;
        }
    }

    public static final class BenchSelection {
        public final int tokens;
        public final int k;
        public final int[] expertIds;
        public final float[] weights;

        public BenchSelection(int tokens, int k) {
            this.tokens = tokens;
            this.k = k;
            this.expertIds = new int[tokens * k];
            this.weights = new float[tokens * k];
            for (int i = 0; i < expertIds.length; i++) {
                expertIds[i] = (i * 7) % 60;
                weights[i] = 1f / (1 + i % 4);
            }
        }
    }

    public static final class BenchStep {
        public final long stepId;
        public final boolean prefill;
        public final int tokens;
        public final long[] requestIds;
        public final int[] positions;
        public final Map<String, String> runInfo;

        BenchStep(long stepId, int tokens) {
            this.stepId = stepId;
            this.prefill = false;
            this.tokens = tokens;
            this.requestIds = new long[tokens];
            this.positions = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                requestIds[i] = i;
                positions[i] = 100;
            }
            this.runInfo = Map.of("model_id", "bench", "num_layers", "24");
        }
    }

    @Param({"25"})
    public int tokens;

    @Param({"4"})
    public int k;

    @Param({"recorder", "measured"})
    public String sink;

    /** Whether the recorder consults the disk guard (issue 9); false measures the recorder as before. */
    @Param({"true"})
    public boolean guarded;

    private Path dir;
    private ChronicleQueue queue;
    private Selector[] woven;
    private Selector[] plain;
    private BenchStep[] steps;
    private int call;
    private BenchSelection selection;
    private ExcerptAppender appender;
    private RouteRecordWriter writer;

    @Setup(Level.Trial)
    public void weave() throws Exception {
        selection = new BenchSelection(tokens, k);
        Advice advice = Advice.withCustomMapping()
                .bind(BoundArgument.class, new Advice.OffsetMapping.ForArgument.Unresolved(
                        TypeDescription.Generic.OBJECT, true, Assigner.Typing.DYNAMIC, 1, true))
                .to(SelectionAdvice.class);
        Class<?> wovenType = new ByteBuddy().redefine(BenchRouter.class)
                .visit(advice.on(named("selectExperts")))
                .make()
                .load(new ClassLoader(getClass().getClassLoader()) { }, ClassLoadingStrategy.Default.CHILD_FIRST)
                .getLoaded();
        woven = new Selector[LAYERS];
        plain = new Selector[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            woven[l] = (Selector) wovenType.getConstructor(int.class, BenchSelection.class).newInstance(l, selection);
            plain[l] = new BenchRouter(l, selection);
        }
        steps = new BenchStep[2];
        steps[0] = new BenchStep(0, tokens);
        steps[1] = new BenchStep(1, tokens);
    }

    @Setup(Level.Iteration)
    public void openQueue() throws IOException {
        dir = Files.createTempDirectory("moe-bench");
        AgentConfig config;
        try {
            config = AgentConfig.parse("pointcut.class=" + BenchRouter.class.getName() + ",queue=" + dir, null,
                    dir);
        } catch (io.moeagent.config.ConfigException e) {
            throw new IllegalStateException(e);
        }
        // as the agent opens it: with the disk guard consulted before, and told after, every record
        // (guarded=false: as before issue 9, to measure what the guard costs)
        DiskGuard guard = guarded ? DiskGuard.beforeOpen(dir, 0, config.rollCycle()) : null;
        queue = QueueFiles.open(dir, config.rollCycle(), 0, guard);
        RouteRecorder recorder = new RouteRecorder(config, queue, "bench", guard);
        RouteBridge.sink = sink.equals("measured") ? new MeasuredSink(recorder, recorder.stats, 0) : recorder;
        appender = queue.createAppender();
        writer = new RouteRecordWriter(appender);
    }

    @TearDown(Level.Iteration)
    public void closeQueue() throws IOException {
        RouteBridge.sink = null;
        appender.close();
        queue.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** One woven call: the advice, the recorder and a route record (a step record every 24th call). */
    @Benchmark
    public Object adviceAndRecord() {
        int layer = call % LAYERS;
        // alternate two step objects: a new step id every LAYERS calls
        BenchStep step = steps[(call / LAYERS) & 1];
        call++;
        return woven[layer].selectExperts(null, step);
    }

    /**
     * Issue 9, before the checksum: one route record (25 x top-4 with weights) through the schema-1 encoder
     * ({@link SchemaV1Writer}: no run id, no CRC, arrays copied straight into the mapped file).
     */
    @Benchmark
    public int routeRecordV1NoCrc() {
        SchemaV1Writer.writeRoute(appender, call, call++ % LAYERS, tokens, k, selection.expertIds,
                selection.weights);
        return call;
    }

    /**
     * Issue 9, after: the same route through the schema-2 encoder the agent uses ({@link RouteRecordWriter}: run
     * id, assembled in a direct buffer, CRC32C over the record, then one copy into the mapped file).
     */
    @Benchmark
    public long routeRecordV2Crc() {
        return writer.writeRoute(7L, call, call++ % LAYERS, tokens, k, selection.expertIds, selection.weights,
                false);
    }

    /** The same call without advice: subtract it from {@link #adviceAndRecord}. */
    @Benchmark
    public Object plainCall() {
        int layer = call % LAYERS;
        BenchStep step = steps[(call / LAYERS) & 1];
        call++;
        return plain[layer].selectExperts(null, step);
    }
}
