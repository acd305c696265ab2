package io.moeagent.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.moeagent.agent.support.Forked;
import io.moeagent.agent.support.JlamaCheckpoint;
import io.moeagent.agent.support.Routes;
import io.moeagent.format.MetaRecord;
import io.moeagent.format.StepRecord;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A third-party engine, unmodified, instrumented by one option: Jlama 0.8.4's Mixtral (a tiny random checkpoint
 * in Jlama's format) generating greedily for three prompts, without and with {@code profile=jlama-mixtral}, in
 * forked Java 21+ JVMs. The queue must hold one step per forward step Jlama ran, rows = tokens forwarded x
 * layers with the right requests and positions, and every (ids, weights) must equal softmax(gate . x) top-k
 * recomputed here from the router inputs (captured by a test-only probe in the driver) and the checkpoint's gate
 * weights. The queue is left in target/jlama-mixtral-queue for the e2e module's analyzer run.
 */
class JlamaProfileIT {
    static final String[] PROMPTS = {"hello world", "the quick brown fox", "mixture of experts"};
    static final int NEW_TOKENS = 16;
    static final Path DRIVER = Path.of("src/test/jlama/JlamaGenerate.java").toAbsolutePath();
    /** Where the queue is left for e2e's JlamaQueueAnalyzeIT (export, validate, stats, plot). */
    static final Path LEFT_QUEUE = Path.of("target/jlama-mixtral-queue").toAbsolutePath();

    static Path java21;

    @TempDir
    Path work;

    @BeforeAll
    static void findJava21() {
        java21 = Java21.find().orElse(null);
        if (java21 == null) {
            String why = "no Java 21+ found (JAVA21_HOME, JAVA_HOME, the running JVM, /usr/lib/jvm/*): Jlama needs"
                    + " one; install a JDK 21+ or set JAVA21_HOME";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(why + " (CI=true: the Jlama profile test must run)");
            }
            Assumptions.abort(why + "; skipping the Jlama profile test");
        }
    }

    @Test
    void jlamaMixtralRecordedByProfileAloneMatchesAnIndependentRecomputation() throws Exception {
        Path model = work.resolve("model");
        JlamaCheckpoint.write(model, 20261202L);
        Path queue = work.resolve("q");

        Forked.Result plain = generate(model, work.resolve("probe-plain.bin"), null);
        Forked.Result agent = generate(model, work.resolve("probe-agent.bin"), "profile=jlama-mixtral,queue=" + queue);
        List<String> outputs = outputs(plain);
        assertEquals(PROMPTS.length, outputs.size(), plain::toString);
        assertEquals(outputs, outputs(agent), "outputs with the agent differ from those without");
        assertEquals(List.of(), agent.agentLines(), agent::toString);
        assertTrue(plain.jvmWarnings().containsAll(agent.jvmWarnings()), "the agent adds no JVM warning: "
                + agent.jvmWarnings());

        List<ProbeCall> probe = readProbe(work.resolve("probe-agent.bin"));
        List<ProbeCall> firstLayer = probe.stream().filter(c -> c.layer == 0).toList();
        int forwardSteps = firstLayer.size();
        int tokensForwarded = firstLayer.stream().mapToInt(c -> c.rows).sum();
        assertEquals(forwardSteps * JlamaCheckpoint.LAYERS, probe.size());

        // what Jlama says it did: per request a prompt batch (prompt + BOS) and one forward per generated token
        int expectedSteps = 0;
        int expectedRows = 0;
        List<Integer> rowsPerRequest = new ArrayList<>();
        for (String line : outputs) {
            int prompt = Integer.parseInt(field(line, "prompt"));
            int generated = Integer.parseInt(field(line, "generated"));
            expectedSteps += 1 + generated;
            expectedRows += prompt + 1 + generated;
            rowsPerRequest.add(prompt + 1 + generated);
        }
        assertEquals(expectedSteps, forwardSteps, "the probe saw the forward steps Jlama reports");
        assertEquals(expectedRows, tokensForwarded);

        Routes routes = Routes.read(queue);
        assertEquals(0, routes.skipped);
        assertEquals(0, routes.orphanRoutes);
        assertEquals(1, routes.metas.size());
        MetaRecord meta = routes.metas.get(0);
        assertEquals(JlamaCheckpoint.EXPERTS, meta.numExperts());
        assertEquals(JlamaCheckpoint.TOP_K, meta.topK());
        assertEquals(JlamaCheckpoint.LAYERS, meta.numLayers());
        assertEquals("jlama", meta.engine());
        assertArrayEquals(new int[] {0, 1, 2}, meta.layersRecorded());
        assertTrue(meta.configuration().startsWith("profile=jlama-mixtral,"), meta.configuration());
        assertTrue(meta.configuration().contains(",weights=true,"), meta.configuration());

        assertEquals(forwardSteps, routes.steps.size(), "one step record per forward step");
        assertEquals(forwardSteps * JlamaCheckpoint.LAYERS, routes.routeRecords, "one route record per layer and step");
        assertEquals(tokensForwarded * JlamaCheckpoint.LAYERS, routes.rows.size());
        assertEquals(0, routes.engineOrderRoutes, "weights known: rows stored best-first");

        // requests and positions: request r holds rowsPerRequest[r] rows at positions 0..n-1, prefill then decode
        List<StepRecord> steps = new ArrayList<>(routes.steps);
        steps.sort(Comparator.comparingLong(StepRecord::stepId));
        Map<Long, List<Integer>> positions = new LinkedHashMap<>();
        for (StepRecord s : steps) {
            for (int i = 0; i < s.tokens(); i++) {
                positions.computeIfAbsent(s.requestId(i), x -> new ArrayList<>()).add(s.position(i));
            }
        }
        assertEquals(List.of(0L, 1L, 2L), new ArrayList<>(positions.keySet()));
        for (int r = 0; r < PROMPTS.length; r++) {
            List<Integer> expected = Stream.iterate(0, i -> i + 1).limit(rowsPerRequest.get(r)).toList();
            assertEquals(expected, positions.get((long) r), "positions of request " + r);
        }
        long prefillSteps = steps.stream().filter(StepRecord::prefill).count();
        assertEquals(PROMPTS.length, prefillSteps, "one prefill step per request");

        // every recorded (ids, weights) against softmax(gate . x) top-k from the probe's router inputs
        float[][][] gates = new float[JlamaCheckpoint.LAYERS][][];
        for (int l = 0; l < gates.length; l++) {
            gates[l] = JlamaCheckpoint.gate(model, l);
        }
        Map<String, List<Routes.Row>> byStepLayer = new LinkedHashMap<>();
        for (Routes.Row row : routes.rows) {
            byStepLayer.computeIfAbsent(row.stepId() + "/" + row.layer(), x -> new ArrayList<>()).add(row);
        }
        int[] stepOfLayer = new int[JlamaCheckpoint.LAYERS];
        int checked = 0;
        for (ProbeCall call : probe) {
            long stepId = steps.get(stepOfLayer[call.layer]++).stepId();
            List<Routes.Row> rows = byStepLayer.get(stepId + "/" + call.layer);
            assertEquals(call.rows, rows.size(), "rows of step " + stepId + " layer " + call.layer);
            for (int r = 0; r < call.rows; r++) {
                double[] probs = softmax(gates[call.layer], call.x[r]);
                Routes.Row row = rows.get(r);
                int[] expected = topK(probs, JlamaCheckpoint.TOP_K);
                for (int j = 0; j < JlamaCheckpoint.TOP_K; j++) {
                    if (expected[j] != row.ids()[j]) {
                        // only a tie within float rounding may swap experts
                        assertEquals(probs[expected[j]], probs[row.ids()[j]], 1e-5,
                                "step " + stepId + " layer " + call.layer + " row " + r + ": ids "
                                        + Arrays.toString(row.ids()) + " vs recomputed " + Arrays.toString(expected));
                    }
                    assertEquals(probs[row.ids()[j]], row.weights()[j], 2e-5, "weight of expert " + row.ids()[j]);
                }
                assertTrue(row.weights()[0] >= row.weights()[1], "best-first");
                checked++;
            }
        }
        assertEquals(tokensForwarded * JlamaCheckpoint.LAYERS, checked);
        System.out.println("jlama-mixtral: " + forwardSteps + " forward steps, " + tokensForwarded
                + " tokens forwarded, " + checked + " (ids, weights) rows equal to the recomputation; outputs "
                + outputs);

        // leave the queue for the analyzer run in e2e (export, validate, stats, plot)
        deleteTree(LEFT_QUEUE);
        copyTree(queue, LEFT_QUEUE);
    }

    private Forked.Result generate(Path model, Path probe, String agentOptions) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(java21.toString());
        if (agentOptions != null) {
            cmd.add("-javaagent:" + Forked.AGENT_JAR + "=" + agentOptions);
        }
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp", jlamaClassPath(),
                DRIVER.toString(), model.toString(), probe.toString(), Integer.toString(NEW_TOKENS)));
        cmd.addAll(List.of(PROMPTS));
        Forked.Result r = Forked.run(cmd, agentOptions == null ? Map.of() : Map.of("MOE_ROUTE_LOG", "1"), work, 300);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.stdout().contains("jlama done"), r::toString);
        return r;
    }

    /** Jlama and its dependencies: the test class path's jars from the local repository, none of ours. */
    static String jlamaClassPath() {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String n = e.replace('\\', '/');
            if (n.endsWith(".jar") && !n.contains("/io/moeagent/") && !n.contains("/target/")
                    && !n.contains("surefire")) {
                out.add(e);
            }
        }
        assertTrue(out.stream().anyMatch(e -> e.contains("jlama-core")), "jlama-core is not on the test class path");
        return String.join(File.pathSeparator, out);
    }

    private static List<String> outputs(Forked.Result r) {
        return r.stdout().lines().filter(l -> l.startsWith("OUTPUT ")).toList();
    }

    private static String field(String line, String name) {
        int at = line.indexOf(" " + name + "=") + name.length() + 2;
        int end = line.indexOf(' ', at);
        return line.substring(at, end < 0 ? line.length() : end);
    }

    record ProbeCall(int layer, int rows, float[][] x) {
    }

    private static List<ProbeCall> readProbe(Path file) throws IOException {
        List<ProbeCall> out = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            while (true) {
                int layer;
                try {
                    layer = in.readInt();
                } catch (EOFException e) {
                    return out;
                }
                int rows = in.readInt();
                int dim = in.readInt();
                float[][] x = new float[rows][dim];
                for (float[] row : x) {
                    for (int d = 0; d < dim; d++) {
                        row[d] = in.readFloat();
                    }
                }
                out.add(new ProbeCall(layer, rows, x));
            }
        }
    }

    static double[] softmax(float[][] gate, float[] x) {
        double[] logits = new double[gate.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < gate.length; e++) {
            double s = 0;
            for (int d = 0; d < x.length; d++) {
                s += (double) gate[e][d] * x[d];
            }
            logits[e] = s;
            max = Math.max(max, s);
        }
        double sum = 0;
        for (int e = 0; e < logits.length; e++) {
            logits[e] = Math.exp(logits[e] - max);
            sum += logits[e];
        }
        for (int e = 0; e < logits.length; e++) {
            logits[e] /= sum;
        }
        return logits;
    }

    static int[] topK(double[] p, int k) {
        Integer[] idx = new Integer[p.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(p[b], p[a]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path x : s.toList()) {
                Path t = to.resolve(from.relativize(x).toString());
                if (Files.isDirectory(x)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(x, t);
                }
            }
        }
    }

    /** Finds a JDK 21 or newer. */
    static final class Java21 {
        static Optional<Path> find() {
            List<Path> homes = new ArrayList<>();
            for (String env : new String[] {"JAVA21_HOME", "JAVA25_HOME", "JAVA_HOME"}) {
                String v = System.getenv(env);
                if (v != null && !v.isBlank()) {
                    homes.add(Path.of(v));
                }
            }
            homes.add(Path.of(System.getProperty("java.home")));
            Path jvms = Path.of("/usr/lib/jvm");
            if (Files.isDirectory(jvms)) {
                try (Stream<Path> s = Files.list(jvms)) {
                    s.sorted(Comparator.reverseOrder()).forEach(homes::add);
                } catch (IOException e) {
                    // no candidates there
                }
            }
            for (Path home : homes) {
                Path java = home.resolve("bin/java");
                if (Files.isExecutable(java) && major(home) >= 21 && hasCompiler(home)) {
                    return Optional.of(java);
                }
            }
            return Optional.empty();
        }

        /** The source launcher needs jdk.compiler: a JDK, not a JRE. */
        private static boolean hasCompiler(Path home) {
            return Files.isExecutable(home.resolve("bin/javac"));
        }

        static int major(Path home) {
            try {
                for (String line : Files.readAllLines(home.resolve("release"))) {
                    if (line.startsWith("JAVA_VERSION=")) {
                        String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                        return Integer.parseInt(v.split("[.+-]")[0]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                return -1;
            }
            return -1;
        }
    }
}
