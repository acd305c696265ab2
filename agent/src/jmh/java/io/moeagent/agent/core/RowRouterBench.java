package io.moeagent.agent.core;

import io.moeagent.agent.bridge.RouteBridge;
import io.moeagent.config.AgentConfig;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.loading.ClassLoadingStrategy;
import net.bytebuddy.implementation.bytecode.constant.NullConstant;
import net.openhft.chronicle.queue.ChronicleQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import static net.bytebuddy.matcher.ElementMatchers.named;

/**
 * Cost per router call of the advice on a Jlama-shaped per-row router (issue 10): {@code topk} returns the reused
 * {@code int[2]} of unsorted ids, the weights are gathered from a per-expert {@code FloatBuffer} inside a tensor
 * object, rows accumulate in the layer scope into one route record per layer and step (3 layers), with the
 * jlama-mixtral profile's paths. One invocation = one layer of {@code rows} router calls inside its layer scope
 * (and a step scope around every 3 layers); the score is per router call. {@code plain} is the same calls
 * without advice and without scope calls.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"})
public class RowRouterBench {
    static final int LAYERS = 3;
    static final int EXPERTS = 8;

    public interface TopK {
        int[] topk(Object probs);
    }

    /** Jlama's FloatBufferTensor's shape for this purpose: a float buffer indexed by expert id. */
    public static final class Tensor {
        public final FloatBuffer b = FloatBuffer.allocate(EXPERTS);
    }

    /** Jlama's MoEBlock.topk shape: fills the reused selectedExperts with k ids, not sorted. */
    public static final class RowRouter implements TopK {
        public final Tensor expertResults = new Tensor();
        public final int numberOfExperts = EXPERTS;
        public final int numberOfExpertsPerToken = 2;
        public final int[] selectedExperts = new int[2];
        public int row;

        @Override
        public int[] topk(Object probs) {
            int a = row++ & 7;
            for (int e = 0; e < EXPERTS; e++) {
                expertResults.b.put(e, (e * 37 + a * 11) % 17 / 17f);
            }
            selectedExperts[0] = a;
            selectedExperts[1] = (a + 3) & 7;
            return selectedExperts;
        }
    }

    /** Jlama's TransformerBlock: the layer scope's receiver. */
    public static final class Layer {
        final int layerIndex;

        Layer(int layerIndex) {
            this.layerIndex = layerIndex;
        }
    }

    @Param({"1", "32"})
    public int rows;

    private TopK woven;
    private TopK plain;
    private Layer[] layers;
    private final Object model = new Object();
    private Path dir;
    private ChronicleQueue queue;
    private RouteRecorder recorder;
    private int layer;
    private Object stepToken;

    @Setup(Level.Trial)
    public void weave() throws Exception {
        Advice advice = Advice.withCustomMapping()
                .bind(BoundArgument.class, NullConstant.INSTANCE, TypeDescription.Generic.OBJECT)
                .to(SelectionAdvice.class);
        Class<?> wovenType = new ByteBuddy().redefine(RowRouter.class)
                .visit(advice.on(named("topk")))
                .make()
                .load(new ClassLoader(getClass().getClassLoader()) { }, ClassLoadingStrategy.Default.CHILD_FIRST)
                .getLoaded();
        woven = (TopK) wovenType.getDeclaredConstructor().newInstance();
        plain = new RowRouter();
        layers = new Layer[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            layers[l] = new Layer(l);
        }
    }

    @Setup(Level.Iteration)
    public void openQueue() throws Exception {
        dir = Files.createTempDirectory("moe-row-bench");
        String r = RowRouter.class.getName();
        AgentConfig config = AgentConfig.parse("profile=jlama-mixtral,queue=" + dir + ",pointcut.class=" + r
                + ",scope.request=none,scope.step=" + getClass().getName() + "#step,scope.layer="
                + Layer.class.getName() + "#forward,meta.num-layers=3", null, dir);
        queue = QueueFiles.open(dir, config.rollCycle(), 0);
        recorder = new RouteRecorder(config, queue, "bench");
        RouteBridge.sink = recorder;
        layer = 0;
        stepToken = null;
    }

    @TearDown(Level.Iteration)
    public void closeQueue() throws IOException {
        if (stepToken != null) {
            recorder.exitScope(RouteBridge.STEP, stepToken);
        }
        RouteBridge.sink = null;
        queue.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** One layer: its scope entry, {@code rows} woven router calls, its exit (which writes the route record). */
    @Benchmark
    @OperationsPerInvocation(1)
    public Object adviceAndRecordPerLayer() {
        if (layer == 0) {
            stepToken = RouteBridge.enterScope(RouteBridge.STEP, model, new Object[] {null, 0});
        }
        Object token = RouteBridge.enterScope(RouteBridge.LAYER, layers[layer], new Object[] {null, 0});
        Object last = null;
        for (int i = 0; i < rows; i++) {
            last = woven.topk(null);
        }
        RouteBridge.exitScope(RouteBridge.LAYER, token);
        if (++layer == LAYERS) {
            RouteBridge.exitScope(RouteBridge.STEP, stepToken);
            stepToken = null;
            layer = 0;
        }
        return last;
    }

    /** The same router calls without the agent. */
    @Benchmark
    public Object plainPerLayer() {
        Object last = null;
        for (int i = 0; i < rows; i++) {
            last = plain.topk(null);
        }
        if (++layer == LAYERS) {
            layer = 0;
        }
        return last;
    }
}
