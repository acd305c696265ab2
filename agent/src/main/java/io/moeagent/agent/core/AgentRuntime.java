package io.moeagent.agent.core;

import io.moeagent.agent.bridge.AgentControl;
import io.moeagent.agent.bridge.AgentLines;
import io.moeagent.agent.bridge.RouteBridge;
import io.moeagent.config.AgentConfig;
import io.moeagent.config.ConfigException;
import io.moeagent.config.MetaFacts;
import io.moeagent.config.MethodRef;
import io.moeagent.config.Pointcuts;
import io.moeagent.config.ValuePath;
import java.io.IOException;
import java.io.Writer;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.agent.builder.ResettableClassFileTransformer;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.implementation.bytecode.constant.NullConstant;
import net.bytebuddy.utility.JavaModule;
import net.openhft.chronicle.queue.ChronicleQueue;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;

/**
 * Starts and stops recording in this JVM (called by the boot class through the bridge's {@link AgentControl}).
 * Start: validate the configuration, open the queue, plug the recorder into the bridge, weave the advice
 * (retransforming classes already loaded). Stop: recorder off, bridge cleared, bytecode reset through the
 * Instrumentation used at install, then the queue flushed and closed. Nothing here throws into the host.
 */
public final class AgentRuntime {
    /** Test hook: when set, counters are written to this properties file at stop and at JVM exit. */
    static final String STATS_PROPERTY = "moe.agent.statsFile";

    private static Instrumentation installedWith;
    private static ResettableClassFileTransformer transformer;
    private static RouteRecorder recorder;
    private static StatsReporter reporter;
    private static Warmup warmup;
    private static ChronicleQueue queue;
    private static AgentConfig config;
    private static boolean hookInstalled;
    private static final AtomicInteger transformations = new AtomicInteger();
    private static final AtomicInteger transformErrors = new AtomicInteger();
    /** Names of the classes woven since the last start, so that stop can tell whether reset restored them all. */
    static final Set<String> woven = ConcurrentHashMap.newKeySet();
    /** Classes woven by the pointcut's selection method since the last start (the "nothing matched" note). */
    private static final AtomicInteger wovenThisStart = new AtomicInteger();

    /** How long detach and exit wait for host calls still inside a record before closing the queue. */
    static final long DRAIN_MILLIS = 2_000;

    private AgentRuntime() {
    }

    /** The boot class's typed entry point, found through {@link java.util.ServiceLoader}. */
    public static final class Control implements AgentControl {
        @Override
        public void start(String options, Instrumentation inst, boolean attached, String env, String agentVersion) {
            AgentRuntime.start(options, inst, attached, env, agentVersion);
        }

        @Override
        public void stop() {
            AgentRuntime.stop();
        }
    }

    public static synchronized void start(String options, Instrumentation inst, boolean attached, String env,
                                          String agentVersion) {
        // Java 25 runs agentmain on the Attach Listener thread with no context class loader, and Chronicle loads
        // classes through it: lend it ours for the duration.
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(AgentRuntime.class.getClassLoader());
        try {
            startWithContextLoader(options, inst, attached, env, agentVersion);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static void startWithContextLoader(String options, Instrumentation inst, boolean attached, String env,
                                               String agentVersion) {
        try {
            if (recorder != null) {
                // recording goes on: say so, and leave moe.agent.recording=true for the next detach
                message("moe-agent: already recording to " + config.queueDir() + "; detach first", true);
                return;
            }
            AgentConfig c;
            try {
                // on attach the user asked explicitly: MOE_ROUTE_LOG neither gates nor redirects recording
                c = AgentConfig.parse(options, attached ? null : env, Path.of("").toAbsolutePath());
                boundArgument(c.pointcuts());
            } catch (ConfigException e) {
                notStarted("moe-agent: " + e.getMessage() + "; the host runs without recording");
                return;
            }
            DiskGuard guard;
            try {
                guard = DiskGuard.beforeOpen(c.queueDir(), c.minFreeSpace(), c.rollCycle());
            } catch (IOException | RuntimeException e) {
                notStarted("moe-agent: " + e.getMessage() + "; the host runs without recording");
                return;
            }
            ChronicleQueue q;
            try {
                q = QueueFiles.open(c.queueDir(), c.rollCycle(), c.retention(), guard);
            } catch (IOException | RuntimeException e) {
                notStarted("moe-agent: cannot open the queue in " + c.queueDir() + " (" + e.getClass().getSimpleName()
                        + ": " + e.getMessage() + "); the host runs without recording");
                return;
            }
            RouteRecorder r = new RouteRecorder(c, q, agentVersion, guard);
            config = c;
            queue = q;
            recorder = r;
            reporter = StatsReporter.start(q, r.runId(), r.stats, r, c.spinNanos());
            RouteBridge.sink = reporter.sink();
            woven.clear();
            wovenThisStart.set(0);
            transformer = install(c.pointcuts(), inst);
            installedWith = inst;
            if (!hookInstalled) {
                Runtime.getRuntime().addShutdownHook(new Thread(AgentRuntime::atExit, "moe-agent-shutdown"));
                hookInstalled = true;
            }
            System.setProperty("moe.agent.queue", c.queueDir().toString());
            System.clearProperty(RESTORED_PROPERTY);
            System.setProperty("moe.agent.recording", "true");
            message("moe-agent: recording to " + c.queueDir(), false);
            startWarmup(c, r.stats, agentVersion);
        } catch (Throwable t) {
            notStarted("moe-agent: could not start (" + t.getClass().getSimpleName() + ": " + t.getMessage()
                    + "); the host runs without recording");
            stopQuietly();
        }
    }

    /** The start-up warm-up on its own daemon thread; if it cannot even start, one line and recording goes on. */
    private static void startWarmup(AgentConfig c, AgentStats stats, String agentVersion) {
        try {
            warmup = Warmup.start(c, stats, agentVersion);
        } catch (Throwable t) {
            warmup = null;
            AgentLines.print("cannot start the warm-up (" + t.getClass().getSimpleName() + ": " + t.getMessage()
                    + "); recording goes on unwarmed");
        }
    }

    /** Ends a warm-up still running (detach, exit) before the closing stats record is written. */
    private static void cancelWarmup() {
        Warmup w = warmup;
        warmup = null;
        if (w != null) {
            w.cancel();
        }
    }

    /** A start that did not happen: one line, and moe.agent.recording=false (only ever with no recorder). */
    private static void notStarted(String text) {
        message(text, true);
        System.setProperty("moe.agent.recording", "false");
    }

    /** Detach: stop the sink, reset the bytecode, then flush and close the queue. */
    public static synchronized void stop() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(AgentRuntime.class.getClassLoader());
        try {
            stopWithContextLoader();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static void stopWithContextLoader() {
        if (recorder == null) {
            message("moe-agent: not recording", false);
            System.setProperty("moe.agent.recording", "false");
            return;
        }
        long records = recorder.records();
        Path dir = config.queueDir();
        String notRestored = stopQuietly();
        String text = "moe-agent: stopped recording; " + records + " records in " + dir;
        if (notRestored == null) {
            System.setProperty(RESTORED_PROPERTY, "true");
            message(text, false);
        } else {
            System.setProperty(RESTORED_PROPERTY, "false");
            message(text + "; " + notRestored + "; its advice stays woven in but records nothing (restart the JVM"
                    + " to remove it)", true);
        }
    }

    /** "true" or "false" after a detach: whether every woven class runs its original bytecode again. */
    static final String RESTORED_PROPERTY = "moe.agent.restored";

    /** Stops recording; returns null when the original bytecode is back, else what could not be restored. */
    private static String stopQuietly() {
        String notRestored = null;
        RouteRecorder r = recorder;
        if (r != null) {
            r.stop();
        }
        RouteBridge.sink = null;
        if (transformer != null && installedWith != null) {
            notRestored = reset(transformer, installedWith);
        }
        transformer = null;
        installedWith = null;
        if (r != null) {
            r.noteIfNothingRecorded(wovenThisStart.get());
        }
        cancelWarmup();
        closeReporter(io.moeagent.format.RouteFormat.STATS_DETACH);
        drainAndClose(r);
        writeStats();
        recorder = null;
        System.setProperty("moe.agent.recording", "false");
        return notRestored;
    }

    /**
     * Removes the transformer and retransforms the classes it wove, which then get their original bytecode back.
     * ByteBuddy's plain {@code reset} answers only whether the transformer was registered and swallows
     * retransformation errors, so the errors are collected here, and every woven class that is still loaded must
     * have been retransformed. Returns null on success, else a description of what was not restored.
     */
    static String reset(ResettableClassFileTransformer t, Instrumentation inst) {
        ResetListener listener = new ResetListener();
        boolean removed;
        try {
            removed = t.reset(inst, AgentBuilder.RedefinitionStrategy.RETRANSFORMATION,
                    AgentBuilder.RedefinitionStrategy.BatchAllocator.ForTotal.INSTANCE, listener);
        } catch (Throwable e) {
            return "resetting the bytecode failed (" + describe(e) + ")";
        }
        if (!removed) {
            return "the weaving transformer was not registered with the Instrumentation it was installed with";
        }
        List<String> problems = new ArrayList<>();
        listener.errors.forEach((type, e) -> problems.add("retransforming " + type + " failed (" + describe(e) + ")"));
        TreeSet<String> missed = new TreeSet<>();
        try {
            for (Class<?> c : inst.getAllLoadedClasses()) {
                String name = c.getName();
                if (woven.contains(name) && !listener.retransformed.contains(name)
                        && !listener.errors.containsKey(name)) {
                    missed.add(name);
                }
            }
        } catch (Throwable e) {
            problems.add("cannot list the loaded classes (" + describe(e) + ")");
        }
        if (!missed.isEmpty()) {
            problems.add("reset did not retransform " + String.join(", ", missed));
        }
        return problems.isEmpty() ? null : "the original bytecode could not be restored: " + String.join("; ", problems);
    }

    private static String describe(Throwable t) {
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    /** Records which classes reset retransformed and which retransformations failed (no retry). */
    static final class ResetListener implements AgentBuilder.RedefinitionStrategy.Listener {
        final Set<String> retransformed = ConcurrentHashMap.newKeySet();
        final Map<String, Throwable> errors = new LinkedHashMap<>();

        @Override
        public void onBatch(int index, List<Class<?>> batch, List<Class<?>> types) {
            for (Class<?> c : batch) {
                retransformed.add(c.getName());
            }
        }

        @Override
        public Iterable<? extends List<Class<?>>> onError(int index, List<Class<?>> batch, Throwable throwable,
                                                         List<Class<?>> types) {
            for (Class<?> c : batch) {
                errors.put(c.getName(), throwable);
            }
            return List.of();
        }

        @Override
        public void onComplete(int amount, List<Class<?>> types, Map<List<Class<?>>, Throwable> failures) {
            // onError has seen every failure
        }
    }

    /** Writes the closing stats record (detach or exit); before the queue closes. */
    private static void closeReporter(byte reason) {
        StatsReporter s = reporter;
        reporter = null;
        if (s != null) {
            s.close(reason);
        }
    }

    /**
     * Waits for the host calls still inside a record to leave, closes their appenders, then the queue. If one is
     * still inside after {@link #DRAIN_MILLIS} (a host thread stopped in the debugger, say), the queue stays
     * open, because closing it would unmap the file under that thread: one line says so.
     */
    private static void drainAndClose(RouteRecorder r) {
        ChronicleQueue q = queue;
        queue = null;
        if (q == null) {
            return;
        }
        try {
            if (r != null && !r.stopAndDrain(DRAIN_MILLIS)) {
                AgentLines.print("a host thread is still inside a record after " + DRAIN_MILLIS + " ms; the queue"
                        + " is left open (records written so far are whole)");
                return;
            }
            q.close();
        } catch (Throwable t) {
            AgentLines.print("closing the queue failed (" + t.getMessage() + ")");
        }
    }

    private static synchronized void atExit() {
        RouteRecorder r = recorder;
        if (r != null) {
            r.stop();
            RouteBridge.sink = null;
            r.noteIfNothingRecorded(wovenThisStart.get());
            cancelWarmup();
            writeStats();
            closeReporter(io.moeagent.format.RouteFormat.STATS_EXIT);
            ChronicleQueue q = queue;
            queue = null;
            // the JVM is going away: close only when no host thread is inside a record (others may still run)
            if (q != null && r.stopAndDrain(DRAIN_MILLIS / 4)) {
                try {
                    q.close();
                } catch (Throwable ignored) {
                    // every complete record is already in the mapped file
                }
            }
        }
    }

    /** The one argument index of the selection method that the pointcuts read (the advice binds just that one), or -1. */
    static int boundArgument(Pointcuts p) throws ConfigException {
        TreeSet<Integer> used = new TreeSet<>();
        MetaFacts m = p.meta();
        for (Object o : new Object[] {p.ids(), p.weights(), p.tokens(), p.k(), p.layer(), p.position(), p.step(),
                m.modelId(), m.engine(), m.engineVersion(), m.numExperts(), m.numLayers(), m.topK()}) {
            if (o instanceof ValuePath v && v.root() == ValuePath.Root.ARGUMENT) {
                used.add(v.argumentIndex());
            }
        }
        if (used.size() > 1) {
            throw new ConfigException("pointcuts read arguments " + used + "; allowed: at most one argument index"
                    + " (read the others through fields of that argument, this or return)");
        }
        return used.isEmpty() ? -1 : used.first();
    }

    /**
     * Weaves the selection advice and the scope advice; one transformation per class, visiting each of its advised
     * methods (a class may hold the router and scopes, e.g. a model class with both generate and forward).
     */
    private static ResettableClassFileTransformer install(Pointcuts p, Instrumentation inst) throws ConfigException {
        int arg = boundArgument(p);
        Advice.WithCustomMapping mapping = Advice.withCustomMapping();
        mapping = arg >= 0
                ? mapping.bind(BoundArgument.class, new Advice.OffsetMapping.ForArgument.Unresolved(
                        TypeDescription.Generic.OBJECT, true, Assigner.Typing.DYNAMIC, arg, true))
                : mapping.bind(BoundArgument.class, NullConstant.INSTANCE, TypeDescription.Generic.OBJECT);
        Map<String, List<AsmVisitorWrapper>> visitors = new LinkedHashMap<>();
        visitors.computeIfAbsent(p.className(), c -> new ArrayList<>())
                .add(mapping.to(SelectionAdvice.class).on(named(p.methodName()).and(not(isAbstract()))));
        int[] kinds = {RouteBridge.REQUEST, RouteBridge.STEP, RouteBridge.LAYER};
        MethodRef[] scopes = {p.scopes().request(), p.scopes().step(), p.scopes().layer()};
        for (int i = 0; i < kinds.length; i++) {
            if (scopes[i] != null) {
                Advice scope = Advice.withCustomMapping().bind(ScopeKind.class, (Object) kinds[i]).to(ScopeAdvice.class);
                visitors.computeIfAbsent(scopes[i].className(), c -> new ArrayList<>())
                        .add(scope.on(named(scopes[i].methodName()).and(not(isAbstract()))));
            }
        }
        AgentBuilder.Identified.Extendable builder = null;
        AgentBuilder base = new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED))
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(new Counting());
        for (Map.Entry<String, List<AsmVisitorWrapper>> e : visitors.entrySet()) {
            List<AsmVisitorWrapper> list = e.getValue();
            AgentBuilder.Transformer t = (DynamicType.Builder<?> b, TypeDescription type, ClassLoader loader,
                                          JavaModule module, java.security.ProtectionDomain pd) -> {
                DynamicType.Builder<?> out = b;
                for (AsmVisitorWrapper v : list) {
                    out = out.visit(v);
                }
                return out;
            };
            builder = builder == null ? base.type(named(e.getKey())).transform(t)
                    : builder.type(named(e.getKey())).transform(t);
        }
        return builder.installOn(inst);
    }

    /** Counts woven classes and weaving errors; an error is reported once per class on stderr. */
    private static final class Counting extends AgentBuilder.Listener.Adapter {
        @Override
        public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module, boolean loaded,
                                     DynamicType dynamicType) {
            transformations.incrementAndGet();
            AgentConfig c = config;
            if (c != null && type.getName().equals(c.pointcuts().className())) {
                wovenThisStart.incrementAndGet();
            }
            woven.add(type.getName());
            System.setProperty("moe.agent.transformations", Integer.toString(transformations.get()));
        }

        @Override
        public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded,
                            Throwable throwable) {
            transformErrors.incrementAndGet();
            System.setProperty("moe.agent.transformErrors", Integer.toString(transformErrors.get()));
            AgentLines.print("cannot instrument " + typeName + " (" + throwable + "); it is not recorded");
        }
    }

    private static void writeStats() {
        String file = System.getProperty(STATS_PROPERTY);
        if (file == null) {
            return;
        }
        Properties p = new Properties();
        p.setProperty("transformations", Integer.toString(transformations.get()));
        p.setProperty("transformErrors", Integer.toString(transformErrors.get()));
        p.setProperty("records", Long.toString(recorder == null ? 0 : recorder.records()));
        try (Writer w = Files.newBufferedWriter(Path.of(file))) {
            p.store(w, "moe-agent counters");
        } catch (IOException e) {
            AgentLines.print("cannot write " + file + " (" + e.getMessage() + ")");
        }
    }

    /** The attach CLI reads the outcome from the target's system properties; errors also go to stderr. */
    private static void message(String text, boolean error) {
        String line = AgentLines.line(text);
        System.setProperty("moe.agent.message", line);
        if (error) {
            System.err.println(line);
        }
    }
}
