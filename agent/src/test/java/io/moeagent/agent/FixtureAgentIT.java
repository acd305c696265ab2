package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeagent.agent.fixture.FixtureMain;
import io.moeagent.agent.fixture.FixtureRouter;
import io.moeagent.agent.support.Forked;
import io.moeagent.agent.fixture.ScopedRouter;
import io.moeagent.agent.support.Routes;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.StepRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.util.CheckClassAdapter;

/**
 * The real moe-agent.jar in forked JVMs on a fixture router whose every decision the test can recompute.
 * The expected values come from {@link FixtureRouter}'s formula, the observed ones from the format's reader.
 */
class FixtureAgentIT {
    private static final String FIXTURE = "pointcut.class=io.moeagent.agent.fixture.FixtureRouter";
    private static final String MAIN = FixtureMain.class.getName();

    @TempDir
    Path work;

    @Test
    void eightThreadsLoseDuplicateAndTearNothing() throws Exception {
        int threads = 8, steps = 40, layers = 4, tokens = 25;
        Path queue = work.resolve("q");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",queue=" + queue, List.of(), MAIN,
                "" + threads, "" + steps, "" + layers, "" + tokens), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);

        Routes routes = Routes.read(queue);
        assertEquals(1, routes.metas.size(), "one meta record");
        assertEquals(0, routes.skipped, "no undecodable record");
        assertEquals(0, routes.orphanRoutes, "every route follows its step");
        assertEquals(threads * steps, routes.steps.size(), "one step record per thread and step");
        assertEquals(threads * steps * layers, routes.routeRecords);
        int prefillRows = tokens, decodeRows = tokens / 5;
        assertEquals(threads * layers * (prefillRows + (steps - 1) * decodeRows), routes.rows.size());
        Set<String> seen = new HashSet<>();
        for (Routes.Row row : routes.rows) {
            assertTrue(seen.add(row.stepId() + "/" + row.key()), "duplicate " + row);
            for (int j = 0; j < FixtureMain.K; j++) {
                assertEquals(FixtureRouter.expert(row.layer(), row.request(), row.position(), j), row.ids()[j], row::toString);
                assertEquals(FixtureRouter.weight(row.layer(), row.request(), row.position(), j), row.weights()[j], row::toString);
            }
        }
        MetaRecord meta = routes.metas.get(0);
        assertEquals("fixture", meta.modelId());
        assertEquals(42, meta.seed());
        assertEquals(FixtureRouter.EXPERTS, meta.numExperts());
        assertArrayEquals(new int[] {0, 1, 2, 3}, meta.layersRecorded());
        assertEquals(Map.of("flavour", "test"), meta.extra());
        assertNotEquals(ProcessHandle.current().pid(), meta.pid(), "the forked host's pid");
        assertTrue(meta.configuration().contains("pointcut.class=io.moeagent.agent.fixture.FixtureRouter"),
                meta.configuration());
    }

    @Test
    void layersSamplingAndIdsOnly() throws Exception {
        Path queue = work.resolve("q");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA,
                FIXTURE + ",layers=1-2,sample-every=3,weights=false", List.of(), MAIN, "1", "10", "4", "6"),
                Map.of("MOE_ROUTE_LOG", queue.toString()), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        Routes routes = Routes.read(queue);
        Set<Integer> layers = new HashSet<>();
        Set<Long> stepIds = new HashSet<>();
        for (Routes.Row row : routes.rows) {
            layers.add(row.layer());
            stepIds.add(row.stepId());
            assertNull(row.weights(), "weights=false records ids only");
        }
        assertEquals(Set.of(1, 2), layers);
        assertEquals(Set.of(0L, 3L, 6L, 9L), stepIds, "every 3rd step id");
        assertArrayEquals(new int[] {1, 2}, routes.metas.get(0).layersRecorded());
    }

    @Test
    void routerWithoutStepContextOrLayerField() throws Exception {
        Path queue = work.resolve("q");
        String options = String.join(",", "pointcut.class=io.moeagent.agent.fixture.FixtureRouterNoContext",
                "pointcut.method=route", "pointcut.ids=return", "pointcut.weights=none", "pointcut.tokens=none",
                "pointcut.k=2", "pointcut.layer=enclosing.index",
                "pointcut.layer-method=io.moeagent.agent.fixture.FixtureLayer#forward", "pointcut.step=none",
                "queue=" + queue);
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, options, List.of(), MAIN, "nocontext", "5", "3",
                "4"), Map.of("MOE_ROUTE_LOG", "true"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        Routes routes = Routes.read(queue);
        assertEquals(5, routes.steps.size(), "a layer index that does not increase starts a new step");
        assertEquals(15, routes.routeRecords);
        assertEquals(0, routes.orphanRoutes);
        // no step context, no request scope: the agent numbers one request for the thread and the rows' positions
        // within it (step 0 has 4 rows, then one row per step)
        for (Routes.Row row : routes.rows) {
            assertEquals(0, row.request());
        }
        for (int layer = 0; layer < 3; layer++) {
            int l = layer;
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), routes.rows.stream().filter(x -> x.layer() == l)
                    .map(Routes.Row::position).toList(), "positions in layer " + layer);
        }
        assertEquals(routes.routeRecords, routes.rows.stream().map(Routes.Row::stepId).distinct().count() * 3);
        // step s, layer l: ids[i] = (s + l + i) % 60 over the call's rows
        Routes.Row first = routes.rows.stream().filter(x -> x.stepId() == 0 && x.layer() == 2).findFirst().orElseThrow();
        assertArrayEquals(new int[] {2, 3}, first.ids());
        assertTrue(routes.steps.get(0).prefill());
        assertFalse(routes.steps.get(1).prefill());
    }

    @Test
    void scopedPerRowRouterByConfigurationAlone() throws Exception {
        Path queue = work.resolve("q");
        String f = "io.moeagent.agent.fixture.";
        // profile=none: only the keys given here and the table's defaults (nothing of the host's profile)
        String options = String.join(",", "profile=none", "pointcut.class=" + f + "ScopedRouter",
                "pointcut.method=route", "pointcut.ids=return", "pointcut.weights=this.probs[ids]",
                "pointcut.k=this.topK", "pointcut.layer=layer.this.layerIndex",
                "scope.request=" + f + "ScopedModel#generate", "scope.step=" + f + "ScopedModel#forward",
                "scope.layer=" + f + "ScopedLayer#forward", "meta.num-experts=this.numberOfExperts",
                "meta.engine=scoped-fixture", "queue=" + queue);
        // 3 layers, 4 new tokens per request; requests with prompts of 5 and 3 rows
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, options, List.of(), MAIN, "scoped", "3", "4", "5",
                "3"), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        Routes routes = Routes.read(queue);
        assertEquals(ScopedRouter.EXPERTS, routes.metas.get(0).numExperts());
        assertEquals(2, routes.metas.get(0).topK());
        assertEquals("scoped-fixture", routes.metas.get(0).engine());
        assertEquals(2 * (1 + 4), routes.steps.size(), "one step per outermost forward call");
        assertEquals(routes.steps.size() * 3, routes.routeRecords, "one record per layer and step, not per row");
        assertEquals((5 + 4 + 3 + 4) * 3, routes.rows.size());
        assertEquals(0, routes.engineOrderRoutes);
        assertEquals(2, routes.steps.stream().filter(StepRecord::prefill).count(), "one prefill step per request");
        int[] rowsOf = {5 + 4, 3 + 4};
        for (Routes.Row row : routes.rows) {
            assertTrue(row.request() == 0 || row.request() == 1, row.key());
            assertTrue(row.position() >= 0 && row.position() < rowsOf[(int) row.request()], row.key());
            int seed = row.layer() * 1000 + row.position();
            int a = seed % ScopedRouter.EXPERTS;
            int b = (seed + 2) % ScopedRouter.EXPERTS;
            int best = ScopedRouter.prob(seed, a) >= ScopedRouter.prob(seed, b) ? a : b;
            assertArrayEquals(new int[] {best, best == a ? b : a}, row.ids(), "best-first " + row.key());
            assertArrayEquals(new float[] {0.4f, 0.3f}, row.weights(), 0f, row.key());
        }
        for (long req = 0; req < 2; req++) {
            long q = req;
            assertEquals(rowsOf[(int) req] * 3L, routes.rows.stream().filter(x -> x.request() == q).count());
        }
    }

    @Test
    void badOptionLeavesTheHostUninstrumented() throws Exception {
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",layers=3-1", List.of(), MAIN,
                "1", "3", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.stdout().contains("fixture done"));
        assertEquals(1, r.agentLines().size(), r::toString);
        String line = r.agentLines().get(0);
        assertTrue(line.contains("'layers'") && line.contains("'3-1'") && line.contains("allowed"), line);
        assertFalse(Files.exists(work.resolve("moe-routes")));

        Forked.Result unknown = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",colour=red", List.of(), MAIN,
                "1", "3", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, unknown.exitCode());
        assertEquals(1, unknown.agentLines().size(), unknown::toString);
        assertTrue(unknown.agentLines().get(0).contains("unknown option 'colour'"), unknown::toString);
    }

    @Test
    void unwritableQueueDirectoryCostsOneLine() throws Exception {
        Path file = Files.writeString(work.resolve("not-a-dir"), "x");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",queue=" + file.resolve("q"), List.of(),
                MAIN, "2", "5", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.stdout().contains("fixture done"));
        assertEquals(1, r.agentLines().size(), r::toString);
        assertTrue(r.agentLines().get(0).contains(file.resolve("q").toString()), r::toString);
    }

    @Test
    void recordCapStopsRecordingWithOneLine() throws Exception {
        Path queue = work.resolve("q");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",max-records=10,queue=" + queue,
                List.of(), MAIN, "2", "20", "4", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(1, r.agentLines().size(), r::toString);
        assertTrue(r.agentLines().get(0).contains("max-records=10"), r::toString);
        Routes routes = Routes.read(queue);
        assertEquals(10, routes.metas.size() + routes.steps.size() + routes.routeRecords);
    }

    @Test
    void killMinusNineLeavesEveryCompleteRecordReadable() throws Exception {
        Path queue = work.resolve("q");
        Process p = Forked.start(Forked.fixture(Forked.JAVA, FIXTURE + ",queue=" + queue, List.of(), MAIN,
                "4", "100000", "4", "25", "1"), Map.of("MOE_ROUTE_LOG", "1"), work);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline && queueBytes(queue) < 200_000) {
            Thread.sleep(100);
        }
        p.destroyForcibly();
        p.waitFor();
        Forked.collect(p);
        Routes routes = Routes.read(queue);
        assertEquals(1, routes.metas.size());
        assertEquals(0, routes.skipped, "no torn record");
        assertTrue(routes.rows.size() > 1000, "recorded before the kill: " + routes.rows.size());
        for (Routes.Row row : routes.rows) {
            for (int j = 0; j < FixtureMain.K; j++) {
                assertEquals(FixtureRouter.expert(row.layer(), row.request(), row.position(), j), row.ids()[j]);
            }
        }
    }

    /** Issue 9: MOE_ROUTE_LOG=off and =no recorded into ./off and ./no. */
    @Test
    void envOffAndNoMeanOff() throws Exception {
        for (String value : new String[] {"off", "no"}) {
            Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE, List.of(), MAIN, "1", "3", "2", "4"),
                    Map.of("MOE_ROUTE_LOG", value), work, 60);
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals(List.of(), r.agentLines(), r::toString);
            assertFalse(Files.exists(work.resolve(value)), "recorded into ./" + value);
        }
    }

    /** Issue 9: a pointcut that never matches recorded nothing without a word. */
    @Test
    void aPointcutThatNeverMatchesSaysSoOnce() throws Exception {
        Forked.Result jdk = Forked.run(Forked.fixture(Forked.JAVA, "pointcut.class=java.lang.Strin", List.of(),
                MAIN, "1", "3", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, jdk.exitCode(), jdk::toString);
        assertEquals(List.of("moe-agent: nothing was recorded: no loaded class matched"
                + " pointcut.class='java.lang.Strin'; check the agent options"), jdk.agentLines(), jdk::toString);

        Forked.Result method = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",pointcut.method=selectExpert",
                List.of(), MAIN, "1", "3", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(1, method.agentLines().size(), method::toString);
        assertTrue(method.agentLines().get(0).contains("pointcut.method='selectExpert'"), method::toString);

        // 40 steps: said once, after the first 16 steps, naming the layers that were seen
        Forked.Result layers = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",layers=999", List.of(), MAIN,
                "1", "40", "4", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, layers.exitCode(), layers::toString);
        assertEquals(1, layers.agentLines().size(), layers::toString);
        String line = layers.agentLines().get(0);
        assertTrue(line.contains("matched none of layers='999' (layers seen: 0..3)"), line);
    }

    /** Issue 9: a 100k-character option gave a 200 KB line; config=/etc/shadow printed one of its lines. */
    @Test
    void errorLinesAreCappedAndNeverShowAnotherFile() throws Exception {
        Forked.Result huge = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",layers=" + "7".repeat(100_000),
                List.of(), MAIN, "1", "3", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, huge.exitCode(), huge::toString);
        assertEquals(1, huge.agentLines().size(), huge::toString);
        assertTrue(huge.stderr().length() < 1000, huge.stderr().length() + " chars of stderr");

        Path shadow = Files.writeString(work.resolve("shadow"), "root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n");
        Forked.Result cfg = Forked.run(Forked.fixture(Forked.JAVA, "config=" + shadow, List.of(), MAIN,
                "1", "3", "2", "4"), Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, cfg.exitCode(), cfg::toString);
        assertEquals(1, cfg.agentLines().size(), cfg::toString);
        assertFalse(cfg.stderr().contains("SECRET") || cfg.stderr().contains("root"), cfg::toString);
    }

    @Test
    void envUnsetLoadsNothingAndWritesNothing() throws Exception {
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE, List.of("-verbose:class"), MAIN,
                "1", "3", "2", "4"), Map.of("MOE_ROUTE_LOG", "0"), work, 60);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.stdout().contains("io.moeagent.agent.boot.AgentBoot"), "the agent was loaded");
        assertFalse(r.stdout().contains("net.bytebuddy"), "ByteBuddy must not load");
        assertFalse(r.stdout().contains("net.openhft"), "Chronicle must not load");
        assertFalse(r.stdout().contains("io.moeagent.agent.core"), "the agent core must not load");
        assertFalse(Files.exists(work.resolve("moe-routes")));
    }

    @Test
    void wovenClassesVerifyAndNoWeavingErrors() throws Exception {
        Path dump = Files.createDirectories(work.resolve("dump"));
        Path stats = work.resolve("stats.properties");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA, FIXTURE + ",queue=" + work.resolve("q"),
                List.of("-Dnet.bytebuddy.dump=" + dump, "-Dmoe.agent.statsFile=" + stats), MAIN, "1", "3", "2", "4"),
                Map.of("MOE_ROUTE_LOG", "1"), work, 60);
        assertEquals(0, r.exitCode(), r::toString);
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(stats)) {
            p.load(in);
        }
        assertEquals("0", p.getProperty("transformErrors"));
        assertEquals("1", p.getProperty("transformations"));
        List<Path> woven = new ArrayList<>();
        try (Stream<Path> s = Files.list(dump)) {
            s.filter(f -> f.getFileName().toString().startsWith("io.moeagent.agent.fixture.FixtureRouter")
                    && !f.getFileName().toString().contains("-original")).forEach(woven::add);
        }
        assertFalse(woven.isEmpty(), "ByteBuddy dumped the woven class");
        for (Path f : woven) {
            assertVerifies(Files.readAllBytes(f));
        }
    }

    @Test
    void java25RunsTheAgentWithoutFlags() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Forked.JAVA25), "no Java 25 at " + Forked.JAVA25);
        Path queue = work.resolve("q");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA25.toString(), FIXTURE + ",queue=" + queue, List.of(),
                MAIN, "2", "5", "3", "6"), Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        assertEquals(List.of(), r.jvmWarnings(), "no JVM warning (Unsafe, native access): " + r);
        assertEquals(2 * 5 * 3, Routes.read(queue).routeRecords);
    }

    /** The agent silences the JVM's warnings only in its default mode: a host's explicit choice keeps its effect. */
    @Test
    void java25AnExplicitUnsafeDebugModeStillWarns() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Forked.JAVA25), "no Java 25 at " + Forked.JAVA25);
        Path queue = work.resolve("q");
        Forked.Result r = Forked.run(Forked.fixture(Forked.JAVA25.toString(), FIXTURE + ",queue=" + queue,
                List.of("--sun-misc-unsafe-memory-access=debug"), MAIN, "1", "2", "1", "2"),
                Map.of("MOE_ROUTE_LOG", "1"), work, 120);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of(), r.agentLines(), r::toString);
        assertTrue(r.jvmWarnings().stream().anyMatch(l -> l.contains("sun.misc.Unsafe::")), r::toString);
        assertEquals(1 * 2 * 1, Routes.read(queue).routeRecords);
    }

    static void assertVerifies(byte[] classFile) {
        StringWriter sw = new StringWriter();
        CheckClassAdapter.verify(new ClassReader(classFile), FixtureAgentIT.class.getClassLoader(), false,
                new PrintWriter(sw));
        assertEquals("", sw.toString(), "CheckClassAdapter found problems");
    }

    private static long queueBytes(Path queue) throws IOException {
        if (!Files.isDirectory(queue)) {
            return 0;
        }
        // cq4 files are preallocated; count what the reader sees instead
        try {
            return Routes.read(queue).rows.size() * 20L;
        } catch (RuntimeException e) {
            return 0;
        }
    }
}
